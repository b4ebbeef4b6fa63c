'use strict';
// Local plugin: serverless accepts an event-source mapping's on-failure destination only as a literal ARN string,
// but an S3 destination on AWS names a bucket whose name CloudFormation generates. serverless.yml writes it as a
// literal with ${...} placeholders (`arn:${AWS::Partition}:s3:::${PlatformBucket}`); after the events are
// compiled, this turns every such string in a mapping's DestinationConfig into a Fn::Sub, and drops the
// `sqs:SendMessage` statement serverless adds for a destination it takes for a queue (an S3 destination needs
// s3:PutObject and s3:ListBucket, which the function's iamRoleStatements grant).
const PLACEHOLDER = /\$\{[A-Za-z0-9:]+\}/;

function substitute(template) {
  const changed = new Set();
  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const onFailure = resource.Properties?.DestinationConfig?.OnFailure;
    if (onFailure && typeof onFailure.Destination === 'string' && PLACEHOLDER.test(onFailure.Destination)) {
      changed.add(onFailure.Destination);
      onFailure.Destination = { 'Fn::Sub': onFailure.Destination };
    }
  }
  if (changed.size === 0) return;
  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    for (const policy of resource.Properties?.Policies ?? []) {
      const doc = policy.PolicyDocument;
      if (!Array.isArray(doc?.Statement)) continue;
      doc.Statement = doc.Statement.map((st) => {
        const resources = Array.isArray(st.Resource) ? st.Resource : [st.Resource];
        if (!resources.some((r) => typeof r === 'string' && changed.has(r))) return st;
        const kept = resources.filter((r) => !(typeof r === 'string' && changed.has(r)));
        return kept.length > 0 ? { ...st, Resource: kept } : undefined;
      }).filter(Boolean);
    }
  }
}

class CloudFormationSubstitutions {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'after:package:compileEvents': () =>
        substitute(serverless.service.provider.compiledCloudFormationTemplate),
    };
  }
}
module.exports = CloudFormationSubstitutions;
module.exports.substitute = substitute;
