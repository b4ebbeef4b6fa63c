import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { postgresDecisionLogStore } from '../../../lib/adapters/decision-log-stores.ts';
import { migrate } from '../../../lib/adapters/postgres/migrate.ts';
import { createPool } from '../../../lib/adapters/postgres/pool.ts';
import { DECISION_LOG_TOPIC } from '../../../lib/contracts/decision-log.ts';
import { intakeDecisionLogBatch } from '../../../lib/decision-log/intake.ts';
import {
  collectDecisionLogObservability,
  DEFAULT_DECISION_LOG_HEALTH_THRESHOLDS,
} from '../../../lib/decision-log/observability.ts';
import type { DecisionLogStore, DecisionLogTransaction } from '../../../lib/decision-log/ports.ts';
import {
  busRecord,
  decisionEnvelope,
  decisionIdOf,
  intentEnvelope,
  OTHER_RUN,
  outcomeEnvelope,
  pinsOf,
  RUN,
} from '../../unit/decision-log/fixtures.ts';
import { memoryAuditSink } from '../../unit/decision-log/in-memory-decision-log-store.ts';

/**
 * The decision log's Postgres store (migration 0018) on the shared local cloud's Postgres, one stream id per test,
 * driven by the intake core: the §9 checks #1, #3, #4, #5 against real rows, one audit record per resolved chain
 * (none new on a replay), 64-bit seeds kept exact, and two batches racing on one new chain (one runs again and
 * reads the other's rows; nothing is lost).
 */

const { state } = inject('stack');
const pool = createPool({ connectionString: state.databaseUrl, max: 4 });
beforeAll(async () => {
  await migrate(pool);
});
afterAll(async () => {
  await pool.end();
});

const settings = { requiredPlatformRunId: RUN, admittedTopics: [DECISION_LOG_TOPIC] };
const streamId = () => `dla.v0::${RUN}::test-${randomUUID()}`;

function setup(startUtc = '2026-12-07T10:01:00.000Z') {
  const store = postgresDecisionLogStore(pool, streamId());
  const auditSink = memoryAuditSink();
  const clock = { now: new Date(startUtc) };
  return { store, auditSink, clock, ports: { store, auditSink, now: () => clock.now } };
}

const rows = async (sql: string, stream: string) => (await pool.query(sql, [stream])).rows;

async function healthOf(store: DecisionLogStore, now: Date) {
  return collectDecisionLogObservability(store, {
    platformRunId: RUN,
    scope: {},
    thresholds: DEFAULT_DECISION_LOG_HEALTH_THRESHOLDS,
    thresholdPolicyRef: 'test',
    recentAttempts: 10,
    now,
  });
}

describe('decision log store on Postgres', () => {
  it('#1 another run’s event: no candidate, no quarantine, checkpoint advanced, attempt RUN_SCOPE_MISMATCH', async () => {
    const { store, ports } = setup();
    const D = decisionIdOf('pg-foreign');
    await intakeDecisionLogBatch(
      ports,
      [busRecord(11, decisionEnvelope(D, { pins: pinsOf(OTHER_RUN) }))],
      settings,
    );
    const sid = store.streamId;
    expect(await rows('SELECT 1 FROM dla_intake_candidates WHERE stream_id = $1', sid)).toEqual([]);
    expect(await rows('SELECT 1 FROM dla_intake_quarantine WHERE stream_id = $1', sid)).toEqual([]);
    expect(await store.checkpoints()).toMatchObject([
      { topic: DECISION_LOG_TOPIC, partition: 0, next_offset: '11' },
    ]);
    expect(await store.recentAttempts({}, 5)).toMatchObject([
      {
        reason_code: 'RUN_SCOPE_MISMATCH',
        accepted: false,
        checkpoint_advanced: true,
        platform_run_id: OTHER_RUN,
      },
    ]);
  });

  it('#3 outcome, intent, decision: {MISSING_DECISION, MISSING_INTENT_LINK}, {MISSING_DECISION}, RESOLVED; 1, 1, 0', async () => {
    const { store, ports } = setup();
    const D = decisionIdOf('pg-order');
    const steps = [
      [outcomeEnvelope(D), ['MISSING_DECISION', 'MISSING_INTENT_LINK'], 1],
      [intentEnvelope(D), ['MISSING_DECISION'], 1],
      [decisionEnvelope(D), [], 0],
    ] as const;
    for (const [i, [envelope, reasons, unresolved]] of steps.entries()) {
      await intakeDecisionLogBatch(ports, [busRecord(i + 1, envelope)], settings);
      expect((await store.readChain(D))?.unresolved_reasons).toEqual(reasons);
      expect((await store.counts({ platformRunId: RUN })).lineage_unresolved_total).toBe(unresolved);
    }
    const [chain] = await rows(
      'SELECT chain_status, intent_count, outcome_count, decision_event_id FROM dla_lineage_chains WHERE stream_id = $1',
      store.streamId,
    );
    expect(chain).toEqual({
      chain_status: 'RESOLVED',
      intent_count: 1,
      outcome_count: 1,
      decision_event_id: decisionEnvelope(D).event_id,
    });
  });

  it('one audit record per resolved chain, none new on a replay; 64-bit seeds stay exact', async () => {
    const { store, ports, auditSink } = setup();
    const D = decisionIdOf('pg-audit');
    const pins = pinsOf(RUN, { seed: 2n ** 63n + 7n });
    const batch = [
      busRecord(1, decisionEnvelope(D, { pins })),
      busRecord(2, intentEnvelope(D, { pins })),
      busRecord(3, outcomeEnvelope(D, { pins })),
    ];
    const first = await intakeDecisionLogBatch(ports, batch, settings);
    expect(first.auditRecords).toHaveLength(1);
    expect(first.auditRecords[0]?.pins.seed).toBe(2n ** 63n + 7n);
    const replay = await intakeDecisionLogBatch(ports, batch, settings);
    expect(replay.auditRecords).toEqual([]);
    expect(auditSink.records.size).toBe(1);
    const chain = await store.readChain(D);
    expect(chain?.pins.seed).toBe(2n ** 63n + 7n);
    expect(chain?.audit_id).toBe(first.auditRecords[0]?.audit_id);
    const [row] = await rows(
      'SELECT audit_id, audit_record_digest FROM dla_lineage_chains WHERE stream_id = $1',
      store.streamId,
    );
    expect(row?.audit_record_digest).toMatch(/^[0-9a-f]{64}$/);
    expect(await store.counts({})).toMatchObject({
      candidate_total: 3,
      new_total: 3,
      duplicate_total: 3,
      audit_record_total: 1,
      lineage_resolved_total: 1,
    });
  });

  it('#4 the same offset with another payload: REPLAY_DIVERGENCE quarantined, not advanced, health RED', async () => {
    const { store, ports, clock } = setup();
    const D = decisionIdOf('pg-divergence');
    await intakeDecisionLogBatch(ports, [busRecord(21, intentEnvelope(D))], settings);
    const result = await intakeDecisionLogBatch(
      ports,
      [busRecord(21, intentEnvelope(D, { variant: 'changed' })), busRecord(22, decisionEnvelope(D))],
      settings,
    );
    expect(result).toMatchObject({ advanced: false, blocked: { offset: '21', reason: 'REPLAY_DIVERGENCE' } });
    expect(await store.checkpoints()).toMatchObject([{ next_offset: '21' }]);
    expect((await store.readChain(D))?.decision).toBeNull();
    expect(await store.anomalyLanes({})).toEqual({ REPLAY_DIVERGENCE: 1 });
    const health = await healthOf(store, clock.now);
    expect(health.state).toBe('RED');
    expect(health.reasons).toContain('REPLAY_DIVERGENCE_RED');
  });

  it('#5 the same (run, type, event_id) with another payload: PAYLOAD_HASH_MISMATCH, advanced, health AMBER', async () => {
    const { store, ports, clock } = setup();
    const D = decisionIdOf('pg-mismatch');
    await intakeDecisionLogBatch(ports, [busRecord(31, decisionEnvelope(D))], settings);
    await intakeDecisionLogBatch(ports, [busRecord(32, decisionEnvelope(D, { variant: 'v2' }))], settings);
    expect(await store.checkpoints()).toMatchObject([{ next_offset: '32' }]);
    expect(await store.anomalyLanes({})).toEqual({ PAYLOAD_HASH_MISMATCH: 1 });
    expect((await store.counts({})).candidate_total).toBe(1);
    const health = await healthOf(store, clock.now);
    expect(health).toMatchObject({ state: 'AMBER', reasons: ['QUARANTINE_AMBER'] });
  });

  it('an unresolved chain ages from when it became unresolved: AMBER past 60 s', async () => {
    const { store, ports, clock } = setup('2026-12-07T10:00:00.000Z');
    await intakeDecisionLogBatch(ports, [busRecord(41, intentEnvelope(decisionIdOf('pg-aging')))], settings);
    expect((await healthOf(store, new Date('2026-12-07T10:00:59.000Z'))).reasons).toEqual([
      'UNRESOLVED_IN_FLIGHT',
    ]);
    clock.now = new Date('2026-12-07T10:01:01.000Z');
    expect(await store.unresolvedSince({}, ['2026-12-07T10:00:01.000Z', '2026-12-07T09:56:00.000Z'])).toEqual(
      [1, 0],
    );
  });

  it('two batches racing on one new chain: one runs again and reads the other’s rows; both links are kept', async () => {
    const { store, ports } = setup();
    const D = decisionIdOf('pg-race');
    // Both transactions load (no chain yet) before either writes: a barrier after the first two loads.
    let loads = 0;
    let bothLoaded: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => {
      bothLoaded = resolve;
    });
    const racing: DecisionLogStore = {
      ...store,
      inTransaction: (work) =>
        store.inTransaction((transaction) => {
          const held: DecisionLogTransaction = {
            write: transaction.write,
            async load(keys) {
              const loaded = await transaction.load(keys);
              if (++loads === 2) bothLoaded();
              if (loads <= 2) await barrier;
              return loaded;
            },
          };
          return work(held);
        }),
    };
    const racingPorts = { ...ports, store: racing };
    const [a, b] = await Promise.all([
      intakeDecisionLogBatch(racingPorts, [busRecord(51, intentEnvelope(D), { partition: 1 })], settings),
      intakeDecisionLogBatch(racingPorts, [busRecord(52, outcomeEnvelope(D), { partition: 2 })], settings),
    ]);
    expect(loads).toBeGreaterThanOrEqual(3);
    expect([a.records[0]?.status, b.records[0]?.status]).toEqual(['ACCEPTED', 'ACCEPTED']);
    expect(await store.readChain(D)).toMatchObject({
      unresolved_reasons: ['MISSING_DECISION'],
      intents: [{ action_id: expect.any(String) }],
      outcomes: [{ status: 'EXECUTED' }],
    });
    await intakeDecisionLogBatch(ports, [busRecord(53, decisionEnvelope(D), { partition: 1 })], settings);
    expect((await store.readChain(D))?.chain_status).toBe('RESOLVED');
  });
});
