'use strict';
// Local plugin: serverless-offline hands a function's environment to the handler as written, so a CloudFormation
// reference there (`!Ref PlatformBucket`, `!Sub arn:...:stateMachine:${...}`) would reach the code as
// "[object Object]". Before serverless-offline starts, resolve what the local cloud can answer: `Ref` of a bucket
// (its name) or a stream (its name), `Ref`/`Fn::GetAtt [X, Arn]` of a state machine declared with an `id` (the ARN
// the local Step Functions server gives it), and `Fn::Sub` strings over those and the pseudo parameters.
// Offline only; deploys are untouched.
class OfflineReferences {
  constructor(serverless) {
    this.serverless = serverless;
    const resolve = () => this.resolve();
    this.hooks = { 'before:offline:start:init': resolve, 'before:offline:start': resolve };
  }

  resolve() {
    const service = this.serverless.service;
    const region = service.provider.region;
    const account = process.env.LOCAL_ACCOUNT_ID || '000000000000';
    const pseudo = { 'AWS::Region': region, 'AWS::AccountId': account, 'AWS::Partition': 'aws' };
    const refs = new Map();
    const arns = new Map();
    for (const machine of Object.values(service.stepFunctions?.stateMachines ?? {})) {
      if (!machine?.id || !machine.name) continue;
      const arn = `arn:aws:states:${region}:${account}:stateMachine:${machine.name}`;
      refs.set(machine.id, arn);
      arns.set(machine.id, arn);
    }
    for (const [id, r] of Object.entries(service.resources?.Resources ?? {})) {
      const name = r?.Properties?.BucketName ?? r?.Properties?.Name;
      if (typeof name !== 'string') continue;
      if (r.Type === 'AWS::S3::Bucket') {
        refs.set(id, name);
        arns.set(id, `arn:aws:s3:::${name}`);
      } else if (r.Type === 'AWS::Kinesis::Stream') {
        refs.set(id, name);
        arns.set(id, `arn:aws:kinesis:${region}:${account}:stream/${name}`);
      }
    }
    const sub = (text) =>
      text.replace(/\$\{([A-Za-z0-9:]+)\}/g, (whole, name) => pseudo[name] ?? refs.get(name) ?? whole);
    const valueOf = (value) => {
      if (!value || typeof value !== 'object') return undefined;
      if (typeof value.Ref === 'string') return refs.get(value.Ref);
      const getAtt = value['Fn::GetAtt'];
      if (Array.isArray(getAtt) && getAtt[1] === 'Arn') return arns.get(getAtt[0]);
      const s = value['Fn::Sub'];
      if (typeof s === 'string') {
        const out = sub(s);
        return out.includes('${') ? undefined : out;
      }
      return undefined;
    };
    const environments = [service.provider.environment, ...Object.values(service.functions ?? {}).map((f) => f.environment)];
    for (const env of environments) {
      if (!env) continue;
      for (const [key, value] of Object.entries(env)) {
        const resolved = valueOf(value);
        if (resolved !== undefined) env[key] = resolved;
      }
    }
  }
}
module.exports = OfflineReferences;
