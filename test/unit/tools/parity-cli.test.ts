import { describe, expect, it } from 'vitest';
import { runScript } from '../../support/cli.ts';

/** `npm run parity` flags: bad ones exit non-zero with one line naming the problem, before anything starts. */
// Each case starts tsx in a child process: seconds on a loaded machine.
describe('npm run parity: flags', { timeout: 60_000 }, () => {
  it('--help prints the usage and every flag, exit 0', async () => {
    const r = await runScript('tools/parity.ts', ['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--events', '--seed', '--max-events-per-output', '--speedup', '--summary-json'])
      expect(r.stdout).toContain(flag);
  });

  it.each([
    [['--events', '5'], '--events must be at least 500'],
    [['--events', 'many'], '--events must be a whole number'],
    [['--speedup=-1'], '--speedup must be a number'],
    [['--max-events-per-output', '1.5'], '--max-events-per-output must be a whole number'],
    [['--nope'], "Unknown option '--nope'"],
  ])('%j → exits non-zero with one line: %s', async (args, reason) => {
    const r = await runScript('tools/parity.ts', args);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(reason);
    expect(r.stdout).not.toContain('local cloud');
  });
});
