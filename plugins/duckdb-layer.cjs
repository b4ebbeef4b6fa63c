'use strict';
// Local plugin: `sls package` and `sls deploy` zip layers/duckdb/build/x64, which `npm run layer:duckdb` builds.
// On a fresh clone that folder does not exist yet, so build it (a no-op when the pinned version is built) before
// packaging starts; `npm run package` and a plain `npx sls deploy` then behave alike.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

class DuckdbLayer {
  constructor(serverless) {
    this.hooks = {
      'before:package:initialize': () => {
        const root = serverless.config.servicePath;
        execFileSync(process.execPath, [require.resolve('tsx/cli'), path.join(root, 'layers/duckdb/build.ts')], {
          cwd: root,
          stdio: ['ignore', 'inherit', 'inherit'],
        });
      },
    };
  }
}
module.exports = DuckdbLayer;
