import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTION_LAYER_POLICY_V0 } from '../../../lib/action-layer/authz.ts';
import { faultInjectingExecutor } from '../../../lib/action-layer/executor.ts';
import { handleActionIntents } from '../../../lib/action-layer/intake.ts';
import { actionLayerHealth } from '../../../lib/action-layer/observability.ts';
import {
  admitAll,
  igUnavailable,
  intentPayload,
  intentRecord,
  memoryStore,
  PINS,
  recordingSleeper,
  scriptedPublisher,
  steppingClock,
} from './factories.ts';

/**
 * At-least-once delivery, as a property: whatever batches the bus forms from a handful of intents (repeats within
 * and across batches), and whenever IG is unreachable, each intent executes once, every delivery of it names one
 * outcome id, and once IG is back and the failed batches are redelivered every outcome is published (ADMIT), with
 * intake == outcomes and health GREEN.
 */

const NORMAL = { mode: 'NORMAL', allow_execution: true, reason: '' };
const settings = { requiredPlatformRunId: PINS.platform_run_id, policy: ACTION_LAYER_POLICY_V0 };

describe('redelivery', () => {
  it('each intent executes once and ends published under its one outcome id', async () => {
    const batch = fc.record({
      picks: fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 6 }),
      igUp: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 8 }), async (batches) => {
        const memory = memoryStore();
        const executor = faultInjectingExecutor({});
        const ig = scriptedPublisher();
        const ports = {
          store: memory.store,
          executor,
          publisher: ig.publisher,
          clock: steppingClock(),
          sleeper: recordingSleeper(),
        };
        const intents = [0, 1, 2, 3, 4, 5].map((i) => intentPayload(`evt-${i}`));
        const outcomeIdOf = new Map<string, Set<string>>();
        const failed: (typeof intents)[] = [];
        const deliver = async (picked: typeof intents) => {
          const answer = await handleActionIntents(picked.map(intentRecord), NORMAL, ports, settings);
          answer.records.forEach((r, i) => {
            const key = picked[i]?.idempotency_key as string;
            if (r.outcome_id) outcomeIdOf.set(key, (outcomeIdOf.get(key) ?? new Set()).add(r.outcome_id));
          });
          return answer;
        };
        for (const { picks, igUp } of batches) {
          ig.answer(igUp ? admitAll : igUnavailable);
          const picked = picks.map((i) => intents[i] as (typeof intents)[number]);
          if ((await deliver(picked)).retry) failed.push(picked);
        }
        // IG is back: the mapping redelivers every batch answered `retry`.
        ig.answer(admitAll);
        for (const picked of failed) expect((await deliver(picked)).retry).toBe(false);

        const delivered = new Set(batches.flatMap((b) => b.picks));
        const tokens = executor.requests.map((r) => r.idempotency_token);
        expect(tokens).toHaveLength(delivered.size);
        expect(new Set(tokens).size).toBe(delivered.size);
        for (const ids of outcomeIdOf.values()) expect(ids.size).toBe(1);
        expect(outcomeIdOf.size).toBe(delivered.size);
        expect([...memory.publishes.values()].map((p) => p.decision)).toEqual(
          [...memory.publishes.values()].map(() => 'ADMIT'),
        );
        expect(memory.publishes.size).toBe(delivered.size);
        const metrics = await memory.store.metrics();
        expect(metrics.intake_total).toBe(delivered.size);
        expect(metrics.outcome_executed_total).toBe(delivered.size);
        expect(metrics.publish_admit_total).toBe(delivered.size);
      }),
      { numRuns: 60 },
    );
  });
});

describe('health', () => {
  it('error_rate = (failed + quarantine + ambiguous) / max(1, intake): AMBER at 0.05, RED at 0.20', () => {
    expect(actionLayerHealth({})).toMatchObject({ health_state: 'GREEN', error_rate: 0, health_reasons: [] });
    expect(actionLayerHealth({ intake_total: 100, outcome_failed_total: 4 }).health_state).toBe('GREEN');
    expect(
      actionLayerHealth({ intake_total: 100, outcome_failed_total: 4, publish_ambiguous_total: 1 }),
    ).toMatchObject({
      health_state: 'AMBER',
      health_reasons: ['ERROR_RATE_AMBER'],
      error_rate: 0.05,
    });
    expect(actionLayerHealth({ intake_total: 100, publish_quarantine_total: 19 }).health_state).toBe('AMBER');
    expect(actionLayerHealth({ intake_total: 100, publish_quarantine_total: 20 })).toMatchObject({
      health_state: 'RED',
      health_reasons: ['ERROR_RATE_RED'],
    });
    expect(actionLayerHealth({ outcome_failed_total: 1 }).health_state).toBe('RED');
  });
});
