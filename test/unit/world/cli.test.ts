import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../tools/world/cli.ts';

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
  return { code, out, err };
}

describe('world CLI', () => {
  it.each([
    [['generate', '--events', '2000', '--seed', '1'], /--out DIR is required/],
    [['generate', '--out', '/tmp/x', '--events', 'many', '--seed', '1'], /--events must be a whole number/],
    [['generate', '--out', '/tmp/x', '--events', '10', '--seed', '1'], /--events must be at least/],
    [['generate', '--out', '/tmp/x', '--events', '2000', '--seed', '-1'], /--seed/],
    [
      ['generate', '--out', '/tmp/x', '--events', '2000', '--seed', '9223372036854775808'],
      /--seed must be at most/,
    ],
    [
      ['generate', '--out', '/tmp/x', '--events', '2000', '--seed', '1', '--scenario-id', 'a/b'],
      /--scenario-id/,
    ],
    [['generate', '--out', '/tmp/x', '--events', '2000', '--seed', '1', '--colour', 'red'], /colour/],
    [['destroy', '--out', '/tmp/x', '--events', '2000', '--seed', '1'], /only command is "generate"/],
  ])('rejects %j with one "world:" line on stderr and exit 2', async (argv, message) => {
    const { code, out, err } = await run(argv);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^world: /);
    expect(err[0]).toMatch(message);
  });

  it('generates a world, printing progress, the run root and rows per output', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'world-cli-'));
    try {
      const root = join(parent, 'run');
      const { code, out, err } = await run(['generate', '--out', root, '--events', '800', '--seed', '5']);
      expect(err).toEqual([]);
      expect(code).toBe(0);
      expect(out).toContainEqual(
        expect.stringMatching(/^\[world\] s3_event_stream_with_fraud_6B 3\/3 parts/),
      );
      expect(out).toContain(`[world] engine run root: ${root}`);
      expect(out).toContainEqual(expect.stringMatching(/s4_case_timeline_6B\s+\d+ rows\s+\d+ parts/));
      const again = await run(['generate', '--out', root, '--events', '800', '--seed', '5']);
      expect(again.code).toBe(1);
      expect(again.err[0]).toMatch(/^world: .*not empty/);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});
