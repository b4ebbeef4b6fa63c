'use strict';
// Local plugin: on AWS a Lambda signs its calls with its role's credentials, which the runtime hands it as
// AWS_ACCESS_KEY_ID & co. Under the local cloud, serverless-offline gives each function the access key id that names
// its role (LOCAL_FUNCTION_IDENTITIES, function key → role name, written by the local cloud), so the local S3,
// Kinesis, Step Functions and Lambda can hold the function to its role (local/parts/iam-enforcement.ts). Offline
// only: nothing changes in what is packaged or deployed (AWS refuses AWS_ACCESS_KEY_ID in a function's environment).
class OfflineIdentities {
  constructor(serverless) {
    this.serverless = serverless;
    const assign = () => this.assign();
    this.hooks = { 'before:offline:start:init': assign, 'before:offline:start': assign };
  }

  assign() {
    const identities = JSON.parse(process.env.LOCAL_FUNCTION_IDENTITIES || '{}');
    for (const [key, fn] of Object.entries(this.serverless.service.functions ?? {})) {
      const role = identities[key];
      if (typeof role !== 'string' || !fn) continue;
      fn.environment = { ...fn.environment, AWS_ACCESS_KEY_ID: role, AWS_SECRET_ACCESS_KEY: 'local-role-secret' };
    }
  }
}
module.exports = OfflineIdentities;
