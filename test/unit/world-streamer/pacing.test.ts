import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  envelopeEpochMicros,
  pacingDelayMs,
  pacingStep,
  waitSeconds,
} from '../../../lib/world-streamer/pacing.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number, micros = 0) =>
  `${new Date(ms).toISOString().slice(0, 23)}${String(micros).padStart(3, '0')}Z`;

describe('event-time pacing (control-ingress.md §4.5)', () => {
  it('delay = Δt / speedup: 10 minutes of event time at speedup 600 is one second', () => {
    expect(pacingDelayMs('2026-01-01T00:00:00.000000Z', '2026-01-01T00:10:00.000000Z', 600)).toBe(1000);
    expect(pacingDelayMs('2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000600Z', 600)).toBeCloseTo(
      0.001,
      9,
    );
  });

  it('no delay without a previous row, with speedup 0, or when time does not move forward', () => {
    expect(pacingDelayMs(null, '2026-01-01T00:10:00.000000Z', 600)).toBe(0);
    expect(pacingDelayMs('2026-01-01T00:00:00.000000Z', '2026-01-01T00:10:00.000000Z', 0)).toBe(0);
    expect(pacingDelayMs('2026-01-01T00:10:00.000000Z', '2026-01-01T00:10:00.000000Z', 600)).toBe(0);
    expect(pacingDelayMs('2026-01-01T00:10:00.000001Z', '2026-01-01T00:10:00.000000Z', 600)).toBe(0);
  });

  it('reads microseconds exactly', () => {
    expect(
      envelopeEpochMicros('2026-01-01T00:00:01.000007Z') - envelopeEpochMicros('2026-01-01T00:00:00.999999Z'),
    ).toBe(8);
  });

  it('property: delays are ≥ 0, and over time-ordered rows they add up to (last − first) / speedup', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 86_400_000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 5000 }),
        (offsets, speedup) => {
          const times = [...offsets].sort((a, b) => a - b).map((o) => iso(T0 + o));
          let total = 0;
          for (let i = 1; i < times.length; i++) {
            const d = pacingDelayMs(times[i - 1], times[i] as string, speedup);
            expect(d).toBeGreaterThanOrEqual(0);
            total += d;
          }
          const span =
            (offsets.reduce((a, b) => Math.max(a, b)) - offsets.reduce((a, b) => Math.min(a, b))) / speedup;
          expect(total).toBeCloseTo(span, 6);
        },
      ),
    );
  });

  it('a delay is slept inline, or handed to a Wait state when long or past the chunk budget', () => {
    const base = { nowMs: 1000, deadlineMs: 61_000, waitThresholdMs: 10_000 };
    expect(pacingStep({ ...base, delayMs: 0 })).toEqual({ kind: 'now' });
    expect(pacingStep({ ...base, delayMs: 2500 })).toEqual({ kind: 'sleep', ms: 2500 });
    expect(pacingStep({ ...base, delayMs: 10_000 })).toEqual({ kind: 'wait', dueAtMs: 11_000 });
    expect(pacingStep({ ...base, deadlineMs: 2000, delayMs: 1500 })).toEqual({ kind: 'wait', dueAtMs: 2500 });
    expect(pacingStep({ ...base, waitThresholdMs: 0, delayMs: 50_000 })).toEqual({
      kind: 'sleep',
      ms: 50_000,
    });
    expect(waitSeconds(11_500, 1000)).toBe(10);
    expect(waitSeconds(500, 1000)).toBe(0);
  });
});
