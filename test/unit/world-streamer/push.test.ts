import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { engineEnvelope } from '../../../lib/contracts/envelope.ts';
import {
  backoffDelayMs,
  isRetryableStatus,
  pushBatchWithRetry,
  pushWithRetry,
} from '../../../lib/world-streamer/push.ts';
import { RetrySettings } from '../../../lib/world-streamer/settings.ts';
import { memoryIngestionGate, memoryLog, virtualTime } from './fakes.ts';
import {
  ENGINE_RUN_ID,
  MF,
  PH,
  PLATFORM_RUN_ID,
  SCENARIO_RUN_ID,
  sha,
  TRAFFIC,
  TRAFFIC_PK,
  trafficRow,
} from './stream-fixture.ts';

const RETRY = RetrySettings.parse({});
const envelope = engineEnvelope({
  outputId: TRAFFIC,
  primaryKey: TRAFFIC_PK,
  row: trafficRow(7, 1, '2026-01-01T00:00:00Z'),
  pins: { manifest_fingerprint: MF, parameter_hash: PH, seed: 42, scenario_id: 'baseline_v1' },
  runId: ENGINE_RUN_ID,
  platformRunId: PLATFORM_RUN_ID,
  scenarioRunId: SCENARIO_RUN_ID,
  packKey: sha('root'),
});

function harness(script: Parameters<typeof memoryIngestionGate>[0], random = () => 0) {
  const ig = memoryIngestionGate(script);
  const time = virtualTime();
  const log = memoryLog();
  return { ig, time, log, deps: { ig: ig.client, sleeper: time.sleeper, random, log } };
}

describe('push to IG (control-ingress.md §4.7)', () => {
  it('spec §9 check 11: 429, 429, 200 → acknowledged on the third attempt with the same event_id', async () => {
    const h = harness((call) => (call <= 2 ? 429 : undefined));
    const outcome = await pushWithRetry(h.deps, envelope, RETRY);
    expect(outcome).toEqual({ ok: true, status: 200, attempts: 3 });
    expect(h.ig.calls.map((e) => e.event_id)).toEqual([
      envelope.event_id,
      envelope.event_id,
      envelope.event_id,
    ]);
    expect(h.time.sleeps).toEqual([250, 500]);
  });

  it('spec §9 check 11: 400 → one attempt, IG_PUSH_REJECTED with the first 256 characters of the body', async () => {
    const h = harness(() => 400);
    const outcome = await pushWithRetry(h.deps, envelope, RETRY);
    expect(outcome).toMatchObject({ ok: false, reason: 'IG_PUSH_REJECTED', attempts: 1 });
    expect(outcome.ok ? '' : outcome.detail).toHaveLength(256);
    expect(h.ig.calls).toHaveLength(1);
    expect(h.time.sleeps).toEqual([]);
  });

  it.each([401, 403, 404, 409, 413, 422])('%i is not retried', async (status) => {
    const h = harness(() => status);
    expect(await pushWithRetry(h.deps, envelope, RETRY)).toMatchObject({
      reason: 'IG_PUSH_REJECTED',
      attempts: 1,
    });
  });

  it('408, 429, 5xx and transport errors are retried; 5 failures → IG_PUSH_RETRY_EXHAUSTED after 4 backoffs', async () => {
    const answers: (number | 'timeout')[] = [408, 'timeout', 503, 500, 502];
    const h = harness((call) => answers[call - 1]);
    const outcome = await pushWithRetry(h.deps, envelope, RETRY);
    expect(outcome).toEqual({
      ok: false,
      reason: 'IG_PUSH_RETRY_EXHAUSTED',
      detail: 'http_502',
      attempts: 5,
    });
    expect(h.time.sleeps).toEqual([250, 500, 1000, 2000]);
    expect(h.log.lines.filter((l) => l.startsWith('WSP IG push retry'))).toHaveLength(4);
  });

  it('status < 400 is success (ADMIT, DUPLICATE, QUARANTINE answered 200, and 202)', async () => {
    const h = harness(() => 202);
    expect(await pushWithRetry(h.deps, envelope, RETRY)).toEqual({ ok: true, status: 202, attempts: 1 });
    expect([200, 302, 399].map(isRetryableStatus)).toEqual([false, false, false]);
  });

  it('backoff is min(max, base·2^(n−1)) plus jitter in [0, delay]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseDelayMs, maxDelayMs, r) => {
          const retry = { maxAttempts: 5, baseDelayMs, maxDelayMs };
          const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
          const total = backoffDelayMs(attempt, retry, () => r);
          expect(total).toBeGreaterThanOrEqual(delay);
          expect(total).toBeLessThanOrEqual(2 * delay);
          expect(total).toBeCloseTo(delay * (1 + r), 6);
        },
      ),
    );
  });

  it('batch: 429, 429, 200 → acknowledged on the third attempt, the same envelopes each time', async () => {
    const h = harness((call) => (call <= 2 ? 429 : undefined));
    const other = { ...envelope, event_id: sha('other') };
    expect(await pushBatchWithRetry(h.deps, [envelope, other], RETRY)).toEqual({
      ok: true,
      status: 200,
      attempts: 3,
    });
    expect(h.ig.batches).toEqual([2, 2, 2]);
    expect(h.time.sleeps).toEqual([250, 500]);
    expect(h.log.lines[0]).toContain('events=2');
  });

  it('batch: 400 → one attempt, IG_PUSH_REJECTED; a 200 that is not a batch answer is refused too', async () => {
    const h = harness(() => 400);
    expect(await pushBatchWithRetry(h.deps, [envelope], RETRY)).toMatchObject({
      ok: false,
      reason: 'IG_PUSH_REJECTED',
      attempts: 1,
    });
    const odd = harness(() => undefined);
    odd.deps.ig = { ...odd.deps.ig, pushBatch: async () => ({ status: 200, body: '{"decision":"ADMIT"}' }) };
    expect(await pushBatchWithRetry(odd.deps, [envelope], RETRY)).toMatchObject({
      ok: false,
      reason: 'IG_PUSH_REJECTED',
      detail: 'IG answered 200 without a batch answer',
    });
  });
});
