/**
 * The house rules (../shared/spec/architecture.md, docs/architecture.md "Rules, as enforced here"), checked by
 * `npm run lint` (`depcruise … --config .dependency-cruiser.cjs`). Type-only imports count: a core that
 * names an SDK type depends on the SDK.
 */

/** A core: every folder under lib/ but the shared layers. Future components are cores without a change here. */
const CORE = '^lib/(?!(?:adapters|runtime|contracts|errors)/)([^/]+)/';
/** Infrastructure a core never touches (an AWS SDK, Postgres, DuckDB), as installed under node_modules. */
const INFRASTRUCTURE_PACKAGES = '(^|/)node_modules/(@aws-sdk/|@smithy/|@duckdb/|pg/|@types/pg/)';
/** Node builtins that reach the world outside: files and processes. */
const IMPURE_BUILTINS = '^(node:)?(fs|fs/promises|child_process)$';

/**
 * Cross-core imports that exist and are reasonable: the Scenario Runner and the World Streamer read the oracle
 * pack the Oracle Store publishes (its layout, gates, pack contracts, stream-view receipt); the Scenario Runner's
 * HTTP API checks API keys as the Ingestion Gate does (`authenticate`, its `Actor`). Any other edge between
 * cores goes through lib/contracts.
 */
const ALLOWED_CROSS_CORE = {
  'scenario-runner': ['^lib/oracle-store/', '^lib/ingestion-gate/(auth|admission)\\.ts$'],
  'world-streamer': ['^lib/oracle-store/'],
};

/**
 * What local/ (the generic local cloud) may use from lib/: the SDK client factory, the Postgres pool and the
 * migration runner (bootstrap applies the platform's migrations as it creates serverless.yml's buckets and
 * streams), and the config parser. Nothing of a core.
 */
const LOCAL_MAY_USE_FROM_LIB = [
  '^lib/adapters/aws-clients\\.ts$',
  '^lib/adapters/postgres/(pool|migrate)\\.ts$',
  '^lib/runtime/config\\.ts$',
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No dependency cycles anywhere.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-no-infrastructure',
      severity: 'error',
      comment: 'A core (lib/<component>/) talks to ports; the AWS SDK, pg and DuckDB live in lib/adapters.',
      from: { path: CORE },
      to: { path: INFRASTRUCTURE_PACKAGES },
    },
    {
      name: 'core-no-impure-builtins',
      severity: 'error',
      comment: 'A core neither reads nor writes files nor starts processes (tools/ and lib/adapters/ do).',
      from: { path: CORE },
      to: { dependencyTypes: ['core'], path: IMPURE_BUILTINS },
    },
    {
      name: 'core-no-outer-layers',
      severity: 'error',
      comment: 'A core imports contracts, errors, its own component (and the cross-core edges below), never the layers around it.',
      from: { path: CORE },
      to: { path: '^(functions|local|tools|bench|test|layers|plugins)/|^lib/(adapters|runtime)/' },
    },
    {
      name: 'core-no-other-core',
      severity: 'error',
      comment: 'A core imports contracts, errors and its own component; another core only along ALLOWED_CROSS_CORE.',
      from: { path: CORE, pathNot: Object.keys(ALLOWED_CROSS_CORE).map((c) => `^lib/${c}/`) },
      to: { path: CORE, pathNot: '^lib/$1/' },
    },
    ...Object.entries(ALLOWED_CROSS_CORE).map(([core, targets]) => ({
      name: `${core}-cross-core-only-where-allowed`,
      severity: 'error',
      comment: `lib/${core} imports another core only at ${targets.join(', ')}.`,
      from: { path: `^lib/${core}/` },
      to: { path: CORE, pathNot: [`^lib/${core}/`, ...targets] },
    })),
    {
      name: 'contracts-pure',
      severity: 'error',
      comment: 'lib/contracts imports only lib/contracts, lib/errors, zod and node:crypto.',
      from: { path: '^lib/contracts/' },
      to: {
        pathNot: ['^lib/(contracts|errors)/', '(^|/)node_modules/zod/', '^(node:)?crypto$'],
      },
    },
    {
      name: 'lib-not-outward',
      severity: 'error',
      comment: 'Nothing in lib/ imports the handlers, the local cloud, tools, tests or benches.',
      from: { path: '^lib/' },
      to: { path: '^(functions|local|tools|bench|test)/' },
    },
    {
      name: 'local-no-domain',
      severity: 'error',
      comment: `local/ knows nothing of the fraud domain: from lib/ it uses only ${LOCAL_MAY_USE_FROM_LIB.join(', ')}; never functions/.`,
      from: { path: '^local/' },
      to: { path: '^(lib|functions)/', pathNot: LOCAL_MAY_USE_FROM_LIB },
    },
    {
      name: 'local-reaches-no-core',
      severity: 'error',
      comment: 'Not even through an allowed helper does local/ reach a core.',
      from: { path: '^local/' },
      to: { path: CORE, reachable: true },
    },
    {
      name: 'functions-no-local-or-tools',
      severity: 'error',
      comment: 'A handler runs on Lambda: it never imports the local cloud, tools, tests or benches.',
      from: { path: '^functions/' },
      to: { path: '^(local|tools|bench|test)/' },
    },
  ],
  allowed: undefined,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)\\.(local|serverless|esbuild|package)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
