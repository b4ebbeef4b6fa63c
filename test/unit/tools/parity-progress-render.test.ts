import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProgressModel, progressMode } from '../../../tools/parity-progress.ts';
import {
  duration,
  frameLines,
  jsonRenderer,
  plainRenderer,
  quietRenderer,
  ttyRenderer,
} from '../../../tools/parity-progress-render.ts';
import { runScript } from '../../support/cli.ts';

/** `npm run parity`'s progress: the model, its four renderers and the flags that choose them. */

import { aRun, T0, writer } from './parity-progress-support.ts';

describe('the JSON renderer (--json)', () => {
  it('prints one JSON object per line on stdout — phase, output, then result last; text goes to stderr', () => {
    const out = writer();
    const err = writer();
    const r = jsonRenderer(out, err);
    r.log('[1/4] local cloud');
    for (const batch of aRun(new ProgressModel(200))) r.show(batch);
    r.result(['  human line'], { status: 'SUCCEEDED', seed: 42n, evidence_dir: '/tmp/evidence' });
    r.stop();
    const parsed = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(new Set(parsed.map((p) => p.type))).toEqual(new Set(['phase', 'output', 'result']));
    expect(parsed.filter((p) => p.type === 'phase')).toHaveLength(16); // P0–P7 entered and left
    expect(parsed[0]).toEqual({
      type: 'phase',
      phase: 'P0',
      gate: 'SUBSTRATE_READY',
      state: 'entered',
      time: '2026-12-07T12:00:00.000Z',
    });
    const outputs = parsed.filter((p) => p.type === 'output');
    expect(outputs[0]).toEqual({
      type: 'output',
      output_id: 'known',
      emitted: 50,
      total: 200,
      status: 'streaming',
      rate_per_s: 5,
      eta_s: 30,
      time: '2026-12-07T12:00:17.000Z',
    });
    expect(outputs.find((o) => o.output_id === 'unknown')).toMatchObject({ total: null, eta_s: null });
    expect(parsed.at(-1)).toEqual({
      type: 'result',
      status: 'SUCCEEDED',
      seed: '42',
      evidence_dir: '/tmp/evidence',
    });
    expect(out.text()).not.toContain('human line');
    expect(err.lines()).toEqual([
      '[1/4] local cloud',
      '      a sorted window',
      '      scenario run r: READY',
    ]);
  });

  it('a run that broke ends with a result line of status ERROR', () => {
    const out = writer();
    const r = jsonRenderer(out, writer());
    r.fail('no local cloud state in /x');
    expect(out.lines().map((l) => JSON.parse(l))).toEqual([
      { type: 'result', status: 'ERROR', error: 'no local cloud state in /x' },
    ]);
  });
});

describe('the plain renderer (no terminal, CI, --no-progress)', () => {
  it('prints a line per phase transition, per tenth of each output and per non-transient note', () => {
    const out = writer();
    let now = T0;
    const r = plainRenderer(out, { now: () => now, unknownTotalEveryMs: 30_000 });
    r.log('[3/4] run-lifecycle');
    for (const batch of aRun(new ProgressModel(200))) {
      now += 10_000;
      r.show(batch);
    }
    r.result(['  result line'], {});
    const lines = out.lines();
    expect(lines[0]).toBe('[3/4] run-lifecycle');
    expect(lines.filter((l) => l.startsWith('  → '))).toHaveLength(8);
    expect(lines.filter((l) => /^ {2}✓ P\d+ /.test(l))).toHaveLength(8);
    expect(lines).toContain('  → P7 INGEST_COMMITTED');
    expect(lines).toContain('  ✓ P1 RUN_PINNED done in 1.0 s');
    expect(lines).toContain('      scenario run r: READY');
    expect(lines.join('\n')).not.toContain('a sorted window');
    const known = lines.filter((l) => l.includes('streamed known:'));
    // 50/200 → 2nd tenth, 110 → 5th, 190 → 9th, 200 done → 10th: each a line once.
    expect(known).toEqual([
      '      streamed known: 50/200 (25%), 5.0 events/s, ETA 30 s',
      '      streamed known: 110/200 (55%), 5.5 events/s, ETA 16 s',
      '      streamed known: 190/200 (95%), 6.3 events/s, ETA 2 s',
      '      streamed known: 200/200 (100%), 5.0 events/s, done',
    ]);
    // Unknown total: the first count, then at most every 30 s of the clock (here every 10 s), and the end.
    expect(lines.filter((l) => l.includes('streamed unknown:'))).toEqual([
      '      streamed unknown: 10, 1.0 events/s, ETA -',
      '      streamed unknown: 55/55 (100%), 1.4 events/s, done',
    ]);
    expect(lines.at(-1)).toBe('  result line');
  });

  it('a failed phase and a failed output are a line each', () => {
    const out = writer();
    const r = plainRenderer(out, { now: () => T0 });
    const model = new ProgressModel(200);
    model.plan([{ output_id: 'a', rows: 1000 }], T0);
    r.show(model.state('P7IngestCommitted', T0));
    r.show(model.counts([{ output_id: 'a', emitted: 3, status: 'failed' }], T0 + 1000));
    r.show(model.state('P7GateFailed', T0 + 2000));
    expect(out.lines()).toEqual([
      '  → P7 INGEST_COMMITTED',
      '      streamed a: 3/200 (1%), - events/s, FAILED',
      '  ✗ P7 INGEST_COMMITTED FAILED in 2.0 s',
    ]);
  });
});

describe('the quiet renderer (--quiet)', () => {
  it('prints the result lines and nothing else', () => {
    const out = writer();
    const r = quietRenderer(out);
    r.log('[1/4] local cloud');
    for (const batch of aRun(new ProgressModel(200))) r.show(batch);
    r.result(['  run-lifecycle SUCCEEDED', '    execution and history: /x'], { status: 'SUCCEEDED' });
    expect(out.lines()).toEqual(['  run-lifecycle SUCCEEDED', '    execution and history: /x']);
  });
});

/**
 * What a terminal shows after `text`: the few escapes log-update writes (cursor up/down/to column 1, erase line or its
 * end; the rest, synchronized output and cursor visibility, change nothing on screen) applied to rows of text.
 */
function screenOf(text: string): string[] {
  const rows = [''];
  let y = 0;
  let x = 0;
  const put = (s: string) => {
    const row = rows[y] ?? '';
    rows[y] = row.slice(0, x).padEnd(x) + s + row.slice(x + s.length);
    x += s.length;
  };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the escapes are the point
  for (const [token, arg, command] of text.matchAll(/\u001B\[([0-9;?]*)([A-Za-z])|\n|[^\u001B\n]+/g)) {
    const n = arg ? Number(arg) : 1;
    if (token === '\n') {
      y += 1;
      x = 0;
    } else if (command === undefined) put(token);
    else if (command === 'A') y = Math.max(0, y - n);
    else if (command === 'B') y += n;
    else if (command === 'G') x = 0;
    else if (command === 'K') rows[y] = arg === '2' ? '' : (rows[y] ?? '').slice(0, x);
    while (rows.length <= y) rows.push('');
  }
  return rows;
}

describe('the TTY renderer (log-update)', () => {
  function fakeTty(columns: number, rows = 40) {
    const w = writer();
    return { ...w, isTTY: true as const, columns, rows };
  }

  it('draws a live line per phase and per output (count, bar, rate, ETA), redrawn in place under the text', () => {
    const stream = fakeTty(100);
    let now = T0;
    const model = new ProgressModel(200);
    const r = ttyRenderer(model, stream, { now: () => now, tickMs: 0 });
    r.log('[3/4] run-lifecycle');
    let shown = 0;
    for (const batch of aRun(model)) {
      now += 5000;
      r.show(batch);
      if (++shown === 6) break; // up to the second segment's counts
    }
    now = T0 + 37_000;
    r.show([]);
    const frame = frameLines(model.snapshot(), now, { columns: 100, rows: 40 });
    expect(frame).toHaveLength(8 + 2);
    expect(frame[0]).toMatch(/^✓ P0 SUBSTRATE_READY\s+1 s$/);
    expect(frame[3]).toMatch(/^✓ P3 ORACLE_READY\s+1 s {2}a sorted window$/);
    expect(frame[7]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] P7 INGEST_COMMITTED\s+30 s$/);
    // Under P7: 110 of 200 at 5.5/s at the last count, 10 s ago: 16 s left then, 6 s now.
    expect(frame[8]).toBe(
      '    known      ███████████░░░░░░░░░      110/200 (55%)      5.5 events/s  ETA 6 s',
    );
    // No total known: the count and the rate, no bar, no ETA.
    expect(frame[9]).toBe(`    unknown${' '.repeat(41)}25      1.3 events/s  ETA -`);
    // …its columns aligned with the others'.
    expect(frame[9]?.indexOf('25 ')).toBe((frame[8]?.indexOf('(55%)') ?? 0) + 5 - 2);
    expect(frame[9]?.indexOf('events/s')).toBe(frame[8]?.indexOf('events/s'));
    // The screen: the text, then the frame once — every redraw overwrote the previous frame.
    expect(screenOf(stream.text())).toEqual(['[3/4] run-lifecycle', ...frame, '']);
    expect(stream.chunks.length).toBeGreaterThan(3);
  });

  it('cuts lines to the terminal’s width and folds the phases done when the frame is taller than the terminal', () => {
    const model = new ProgressModel(200);
    for (const _ of aRun(model));
    const narrow = frameLines(model.snapshot(), T0 + 60_000, { columns: 40, rows: 40 });
    expect(narrow).toHaveLength(10);
    for (const line of narrow) expect(line.length).toBeLessThanOrEqual(39);
    expect(narrow.some((l) => l.endsWith('…'))).toBe(true);
    const short = frameLines(model.snapshot(), T0 + 60_000, { columns: 100, rows: 6 });
    expect(short[0]).toMatch(/^✓ P0–P7 done\s+50 s$/);
    expect(short).toHaveLength(3); // the folded phases and the two outputs
  });

  it('the last frame stays on screen, the result under it; later text is plain lines', () => {
    const stream = fakeTty(100);
    const model = new ProgressModel(200);
    const r = ttyRenderer(model, stream, { now: () => T0 + 50_000, tickMs: 0 });
    r.log('[3/4] run-lifecycle');
    for (const batch of aRun(model)) r.show(batch);
    r.result(['  run-lifecycle SUCCEEDED', '    execution and history: /x'], {});
    r.log('after');
    r.stop();
    const frame = frameLines(model.snapshot(), T0 + 50_000, { columns: 100, rows: 40 });
    expect(frame[7]).toMatch(/^✓ P7 INGEST_COMMITTED\s+43 s$/);
    expect(frame[8]).toMatch(/^ {4}known .*200\/200 \(100%\) +5\.0 events\/s {2}done$/);
    expect(screenOf(stream.text())).toEqual([
      '[3/4] run-lifecycle',
      ...frame,
      '  run-lifecycle SUCCEEDED',
      '    execution and history: /x',
      'after',
      '',
    ]);
  });

  it('a ticking renderer redraws on its own (the active phase’s time runs)', async () => {
    const stream = fakeTty(100);
    const model = new ProgressModel(200);
    let now = T0;
    const r = ttyRenderer(model, stream, { now: () => now, tickMs: 5 });
    r.show(model.state('P0SubstrateReady', T0));
    expect(screenOf(stream.text())[0]).toMatch(/P0 SUBSTRATE_READY\s+0 s$/);
    now = T0 + 3000;
    await expect
      .poll(() => screenOf(stream.text())[0], { timeout: 5000 })
      .toMatch(/P0 SUBSTRATE_READY\s+3 s$/);
    r.stop();
  });
});

describe('choosing the mode', () => {
  it('--json, else --quiet, else live on a terminal; plain for --no-progress, CI, TERM=dumb or no terminal', () => {
    expect(progressMode({ json: true }, true, {})).toBe('json');
    expect(progressMode({ json: true }, false, { CI: 'true' })).toBe('json');
    expect(progressMode({ quiet: true }, true, {})).toBe('quiet');
    expect(progressMode({}, true, {})).toBe('tty');
    expect(progressMode({}, true, { CI: 'false' })).toBe('tty');
    expect(progressMode({}, true, { CI: 'true' })).toBe('plain');
    expect(progressMode({}, true, { CI: '1' })).toBe('plain');
    expect(progressMode({}, true, { TERM: 'dumb' })).toBe('plain');
    expect(progressMode({ 'no-progress': true }, true, {})).toBe('plain');
    expect(progressMode({}, false, {})).toBe('plain');
    expect(progressMode({}, undefined, {})).toBe('plain');
  });

  it('formats durations for people', () => {
    expect([duration(0.4), duration(59.6), duration(65), duration(3599), duration(7260)]).toEqual([
      '0 s',
      '1 min 00 s',
      '1 min 05 s',
      '59 min 59 s',
      '2 h 01 min',
    ]);
  });
});

// Each case starts tsx in a child process: seconds on a loaded machine. No local cloud: --no-stack-up on an empty dir.
describe('npm run parity: --json and --quiet', { timeout: 60_000 }, () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'parity-progress-'));
  const env = { LOCAL_CLOUD_DIR: empty, CI: 'true' };

  it('--help names --quiet, --json and --no-progress', async () => {
    const r = await runScript('tools/parity.ts', ['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--quiet', '--json', '--no-progress']) expect(r.stdout).toContain(flag);
  });

  it('--json --quiet is a usage error, one line, exit 2', async () => {
    const r = await runScript('tools/parity.ts', ['--json', '--quiet'], env);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--json and --quiet do not go together');
    expect(r.stdout).toBe('');
  });

  it('--json: stdout holds only JSON lines, the last a result; the human text is on stderr', async () => {
    const r = await runScript('tools/parity.ts', ['--json', '--no-stack-up'], env);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.at(-1)).toMatchObject({ type: 'result', status: 'ERROR' });
    expect(String(parsed.at(-1)?.error)).toContain(`no local cloud state in ${empty}`);
    expect(r.stderr).toContain('[1/4] local cloud');
  });

  it('--quiet: nothing on stdout before the result; the error on stderr', async () => {
    const r = await runScript('tools/parity.ts', ['--quiet', '--no-stack-up'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(
      `parity: no local cloud state in ${empty}; run without --no-stack-up or npm run stack:up first`,
    );
  });

  it('without either (and CI set): plain lines on stdout', async () => {
    const r = await runScript('tools/parity.ts', ['--no-stack-up'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'parity: a whole run (P0 to P12) on the embedded local cloud\n[1/4] local cloud\n',
    );
  });
});
