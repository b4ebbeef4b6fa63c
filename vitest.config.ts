import { defineConfig } from 'vitest/config';

// Tests run on Node 20 here; the SDK's deprecation notice would repeat in every worker.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    // Only with --coverage (npm run test:coverage, the unit project): `npm test` never fails on coverage.
    coverage: {
      provider: 'v8',
      include: ['lib/**/*.ts', 'functions/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      // Measured 2026-12-07 on the unit project: statements 79.6, branches 70.4, functions 74.0, lines 81.6.
      thresholds: { statements: 78, branches: 68, functions: 72, lines: 80 },
    },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/contract/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          // A real headless Chromium (Debian's chromium) on pages written to disk: no local cloud, so not integration.
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          // One shared local cloud; some tests stop and restart its parts, so files run one at a time.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
