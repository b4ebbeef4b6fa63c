import fs from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPackageDir } from '../../../tools/deploy-readiness/package-dir.ts';
import { writePackage } from './package-fixture.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

async function check(layout: 'per-function' | 'shared', zipGoalBytes?: number) {
  const dir = await writePackage(layout);
  dirs.push(dir);
  return checkPackageDir(dir, { stage: 'dev', ...(zipGoalBytes ? { zipGoalBytes } : {}) });
}

const EXPECTED = [
  '[layers] OracleDashsyncLambdaFunction: function oracle-sync requires @duckdb/node-api but has no layer providing it',
  '[iam] IngestionDashgateDashapiLambdaFunction: ingestion-gate-api sends PutRecordsCommand: role grants no kinesis:PutRecords',
];

describe('checkPackageDir', { timeout: 30_000 }, () => {
  it.each(['per-function', 'shared'] as const)(
    'finds each function its zip and handler (%s zips)',
    async (layout) => {
      const { findings, lines } = await check(layout);
      const shown = findings
        .filter((f) => f.rule === 'layers' || f.rule === 'iam' || f.rule === 'artifacts' || f.rule === 'size')
        .map((f) => `[${f.rule}] ${f.resource}: ${f.message}`);
      expect(shown).toEqual(EXPECTED);
      expect(lines).toContainEqual(
        expect.stringMatching(/^function +zip +zipped +unzipped +with layers +SDK commands$/),
      );
      expect(lines).toContainEqual(
        expect.stringMatching(/^ingestion-gate-api +\S+\.zip +[\d,]+ +[\d,]+ +[\d,]+ +kinesis\.PutRecords$/),
      );
      expect(lines).toContainEqual(
        expect.stringMatching(/^DuckdbLambdaLayer +duckdb\.zip +[\d,]+ +@duckdb\/node-api$/),
      );
    },
  );

  it('adds the layers to a function unzipped, and holds each zip to the goal given', async () => {
    const { findings, lines } = await check('per-function', 100);
    const chunk = lines.find((l) => l.startsWith('world-streamer-stream-chunk '));
    const [zipped, unzipped, withLayers] = (chunk?.split(/ +/).slice(2, 5) ?? []).map((n) =>
      Number(n.replaceAll(',', '')),
    );
    expect(withLayers).toBeGreaterThan(unzipped ?? 0);
    expect(zipped).toBeGreaterThan(100);
    expect(findings.filter((f) => f.rule === 'size')).toHaveLength(3);
  });

  it('refuses a directory without a packaged template', async () => {
    const dir = await fs.mkdtemp('/tmp/deploy-readiness-empty-');
    dirs.push(dir);
    await expect(checkPackageDir(dir, { stage: 'dev' })).rejects.toThrow(
      /cloudformation-template-update-stack\.json/,
    );
  });
});
