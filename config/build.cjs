'use strict';
// How the functions are bundled. Deployed bundles are minified with no source maps (smaller zips, no
// --enable-source-maps cost at cold start); LAMBDA_SOURCE_MAPS=1 brings both back for debugging a stage.
// The local cloud sets it for its own Lambda part, so local stack traces point at the TypeScript.
module.exports = () => {
  const maps = process.env.LAMBDA_SOURCE_MAPS === '1';
  return {
    sourcemap: maps ? 'linked' : false,
    nodeOptions: maps ? '--enable-source-maps' : '',
  };
};
