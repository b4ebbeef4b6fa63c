'use strict';
// Local plugin: serverless-offline hands a function's environment to the handler as written, so a CloudFormation
// reference there (`!Ref StreamRunStateMachine`) reaches the code as "[object Object]". Before serverless-offline
// starts, resolve the references the local cloud can answer: `Ref`/`Fn::GetAtt [X, Arn]` of a state machine
// declared with an `id` becomes the ARN the local Step Functions server gives it. Offline only; deploys are untouched.
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
    const arns = new Map();
    for (const machine of Object.values(service.stepFunctions?.stateMachines ?? {})) {
      if (machine?.id && machine.name) arns.set(machine.id, `arn:aws:states:${region}:${account}:stateMachine:${machine.name}`);
    }
    const refOf = (value) => {
      if (!value || typeof value !== 'object') return undefined;
      if (typeof value.Ref === 'string') return value.Ref;
      const getAtt = value['Fn::GetAtt'];
      if (Array.isArray(getAtt) && getAtt[1] === 'Arn') return getAtt[0];
      return undefined;
    };
    const environments = [service.provider.environment, ...Object.values(service.functions ?? {}).map((f) => f.environment)];
    for (const env of environments) {
      if (!env) continue;
      for (const [key, value] of Object.entries(env)) {
        const ref = refOf(value);
        if (ref && arns.has(ref)) env[key] = arns.get(ref);
      }
    }
  }
}
module.exports = OfflineReferences;
