import { describe, expect, it } from 'vitest';
import { postgresCaseTriggerStore } from '../../../lib/adapters/case-trigger-stores.ts';
import { DatabaseUnavailable } from '../../../lib/adapters/postgres/pool.ts';
import type {
  DecisionSource,
  LedgerClaim,
  PayloadMismatchAnomaly,
  PublishRecord,
  RaisedOutcome,
} from '../../../lib/case-trigger/ports.ts';
import { decisionEscalation } from '../../../lib/case-trigger/triggers.ts';
import type { ActionOutcomePayload } from '../../../lib/contracts/action-layer.ts';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import type { DecisionResponsePayload } from '../../../lib/contracts/decision-lane.ts';
import { InvariantViolation } from '../../../lib/errors/platform-error.ts';
import { type ScriptedAnswer, scriptedPool } from '../../support/scripted-pool.ts';
import { decisionEnvelope, decisionIdOf, outcomeEnvelope, pinsOf, RUN } from '../decision-log/fixtures.ts';

/**
 * The case trigger's Postgres store (lib/adapters/case-trigger-stores.ts) against a scripted pool (the SQL itself runs
 * in test/integration/case-trigger/store.test.ts): each method's one set-wise statement and its parameter columns
 * (first row of a repeated key kept, empty input sending nothing), and how the scripted rows are answered back —
 * decision sources, parked ids, the parked outcomes' exact JSON, ledger answers in claim order, counters as numbers —
 * and errors: an unreachable database as DatabaseUnavailable, any other error as it is.
 */

const STREAM = `case_trigger.v0::${RUN}`;
const SCENARIO = pinsOf().scenario_run_id;
const HASH = 'c'.repeat(64);
const OTHER = 'd'.repeat(64);
const SEEN_AT = '2026-12-07T10:00:09.000000Z';

const source = (name: string, event = `source-${name}`): DecisionSource => ({
  decision_id: decisionIdOf(name),
  platform_run_id: RUN,
  scenario_run_id: SCENARIO,
  source_event_id: event,
});
const outcome = (name: string, o: Parameters<typeof outcomeEnvelope>[1] = {}) =>
  outcomeEnvelope(decisionIdOf(name), o).payload as unknown as ActionOutcomePayload;
function claimOf(name: string, payload_hash?: string): LedgerClaim {
  const decision = decisionEnvelope(decisionIdOf(name)).payload as unknown as DecisionResponsePayload;
  const trigger = decisionEscalation(decision);
  return {
    case_trigger_id: trigger.case_trigger_id,
    case_id: trigger.case_id,
    trigger_type: trigger.trigger_type,
    source_ref_id: trigger.source_ref_id,
    platform_run_id: trigger.pins.platform_run_id,
    scenario_run_id: trigger.pins.scenario_run_id,
    payload_hash: payload_hash ?? trigger.payload_hash,
    payload: trigger,
    first_seen_at_utc: SEEN_AT,
  };
}
const anomaly = (id: string, observed: string, stored = HASH): PayloadMismatchAnomaly => ({
  case_trigger_id: id,
  source_ref_id: `decision:${id}`,
  platform_run_id: RUN,
  scenario_run_id: SCENARIO,
  stored_payload_hash: stored,
  observed_payload_hash: observed,
  observed_at_utc: SEEN_AT,
});
/** A pool whose every query fails with `error`. */
const failing = (error: Error) =>
  scriptedPool(() => {
    throw error;
  });
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('the case trigger Postgres store: decision sources', () => {
  it('records each decision once (the first row kept) in one unnest insert, keyed by the stream', async () => {
    const db = scriptedPool();
    await postgresCaseTriggerStore(db.pool, STREAM).recordDecisionSources([
      source('a'),
      source('b', 'event-b'),
      source('a', 'later'),
    ]);
    expect(db.calls).toHaveLength(1);
    const [insert] = db.calls;
    expect(insert?.sql).toMatch(/^INSERT INTO ct_decision_sources[\s\S]*ON CONFLICT DO NOTHING$/);
    expect(insert?.params).toEqual([
      STREAM,
      [decisionIdOf('a'), decisionIdOf('b')],
      [RUN, RUN],
      [SCENARIO, SCENARIO],
      ['source-a', 'event-b'],
    ]);
  });

  it('sends nothing for no sources or no ids; a lookup sends each id once and answers the rows found', async () => {
    const found = [source('b'), source('a')];
    const db = scriptedPool((sql) =>
      sql.includes('FROM ct_decision_sources') ? { rows: found } : undefined,
    );
    const store = postgresCaseTriggerStore(db.pool, STREAM);
    await store.recordDecisionSources([]);
    expect(await store.decisionSources([])).toEqual([]);
    expect(db.calls).toEqual([]);

    const ids = [decisionIdOf('a'), decisionIdOf('b'), decisionIdOf('a'), decisionIdOf('c')];
    expect(await store.decisionSources(ids)).toEqual(found);
    expect(db.calls).toHaveLength(1);
    expect(db.calls[0]?.sql).toMatch(/WHERE stream_id = \$1 AND decision_id = ANY\(\$2::text\[\]\)$/);
    expect(db.calls[0]?.params).toEqual([STREAM, [decisionIdOf('a'), decisionIdOf('b'), decisionIdOf('c')]]);
  });
});

describe('the case trigger Postgres store: parked outcomes', () => {
  it('parks each outcome once with its pins, status and canonical JSON; answers the ids the insert returned', async () => {
    const [a, b] = [outcome('a'), outcome('b', { status: 'FAILED' })];
    const db = scriptedPool((sql) =>
      sql.startsWith('INSERT INTO ct_waiting_outcomes')
        ? { rows: [{ outcome_id: b.outcome_id }] }
        : undefined,
    );
    const parked = await postgresCaseTriggerStore(db.pool, STREAM).park([a, b, { ...a, status: 'FAILED' }]);
    expect(parked).toEqual([b.outcome_id]);
    expect(db.calls).toHaveLength(1);
    expect(db.calls[0]?.sql).toMatch(/ON CONFLICT DO NOTHING\s+RETURNING outcome_id$/);
    expect(db.calls[0]?.params).toEqual([
      STREAM,
      [a.outcome_id, b.outcome_id],
      [decisionIdOf('a'), decisionIdOf('b')],
      [a.pins.platform_run_id, b.pins.platform_run_id],
      [a.pins.scenario_run_id, b.pins.scenario_run_id],
      ['EXECUTED', 'FAILED'],
      [canonicalJson(a), canonicalJson(b)],
    ]);
  });

  it('parking nothing sends nothing and answers no ids', async () => {
    const db = scriptedPool();
    expect(await postgresCaseTriggerStore(db.pool, STREAM).park([])).toEqual([]);
    expect(db.calls).toEqual([]);
  });

  it('waitingFor sends each decision id once and parses each stored JSON exactly (a 64-bit integer kept)', async () => {
    const big = '{"amount":12.5,"outcome_id":"o-1","seed":18446744073709551615}';
    const db = scriptedPool((sql) =>
      sql.includes('FROM ct_waiting_outcomes')
        ? { rows: [{ outcome_json: big }, { outcome_json: canonicalJson(outcome('b')) }] }
        : undefined,
    );
    const store = postgresCaseTriggerStore(db.pool, STREAM);
    expect(await store.waitingFor([])).toEqual([]);
    expect(db.calls).toEqual([]);

    const waiting = await store.waitingFor([decisionIdOf('a'), decisionIdOf('b'), decisionIdOf('a')]);
    expect(waiting).toEqual([
      { outcome_id: 'o-1', seed: 18_446_744_073_709_551_615n, amount: 12.5 },
      JSON.parse(canonicalJson(outcome('b'))),
    ]);
    expect(canonicalJson(waiting[0])).toBe(big);
    expect(db.calls[0]?.sql).toMatch(/raised_at_utc IS NULL\s+ORDER BY outcome_id$/);
    expect(db.calls[0]?.params).toEqual([STREAM, [decisionIdOf('a'), decisionIdOf('b')]]);
  });

  it('markRaised sends each outcome once (the first disposition kept); nothing for none', async () => {
    const raised: RaisedOutcome[] = [
      { outcome_id: 'o-2', case_trigger_id: 't-2', disposition: 'PUBLISHED' },
      { outcome_id: 'o-1', case_trigger_id: 't-1', disposition: 'QUARANTINED' },
      { outcome_id: 'o-2', case_trigger_id: 't-9', disposition: 'REPLAY' },
    ];
    const db = scriptedPool();
    const store = postgresCaseTriggerStore(db.pool, STREAM);
    await store.markRaised([]);
    expect(db.calls).toEqual([]);
    await store.markRaised(raised);
    expect(db.calls).toHaveLength(1);
    expect(db.calls[0]?.sql).toMatch(/^UPDATE ct_waiting_outcomes w[\s\S]*w.raised_at_utc IS NULL$/);
    expect(db.calls[0]?.params).toEqual([
      STREAM,
      ['o-2', 'o-1'],
      ['t-2', 't-1'],
      ['PUBLISHED', 'QUARANTINED'],
    ]);
  });
});

describe('the case trigger Postgres store: the replay ledger', () => {
  /** Answers the claim insert with `inserted` ids and the stored-claims read with `stored` rows. */
  const ledger =
    (inserted: string[], stored: Record<string, unknown>[]) =>
    (sql: string): ScriptedAnswer => {
      if (sql.startsWith('INSERT INTO ct_replay_ledger'))
        return { rows: inserted.map((case_trigger_id) => ({ case_trigger_id })) };
      if (sql.includes('FROM ct_replay_ledger l')) return { rows: stored };
      return undefined;
    };

  it('all inserted: NEW for each in claim order, one insert of every column, no read of stored rows', async () => {
    const claims = [claimOf('b'), claimOf('a')];
    const db = scriptedPool(ledger(claims.map((c) => c.case_trigger_id).reverse(), []));
    const answers = await postgresCaseTriggerStore(db.pool, STREAM).claim(claims);
    expect(answers).toEqual([{ status: 'NEW' }, { status: 'NEW' }]);
    expect(db.calls).toHaveLength(1);
    expect(db.calls[0]?.sql).toMatch(/ON CONFLICT DO NOTHING\s+RETURNING case_trigger_id$/);
    expect(db.calls[0]?.params).toEqual([
      STREAM,
      claims.map((c) => c.case_trigger_id),
      claims.map((c) => c.case_id),
      ['DECISION_ESCALATION', 'DECISION_ESCALATION'],
      [`decision:${decisionIdOf('b')}`, `decision:${decisionIdOf('a')}`],
      [RUN, RUN],
      [SCENARIO, SCENARIO],
      claims.map((c) => c.payload_hash),
      claims.map((c) => canonicalJson(c.payload)),
      [SEEN_AT, SEEN_AT],
    ]);
  });

  it('the ids not inserted are read in a second statement: SEEN with the publish decision (or null), else MISMATCH', async () => {
    const [fresh, seen, unpublished, changed] = [
      claimOf('a'),
      claimOf('b'),
      claimOf('c'),
      claimOf('d', OTHER),
    ];
    const stored = [
      { case_trigger_id: changed.case_trigger_id, payload_hash: HASH, publish_decision: 'ADMIT' },
      {
        case_trigger_id: seen.case_trigger_id,
        payload_hash: seen.payload_hash,
        publish_decision: 'AMBIGUOUS',
      },
      {
        case_trigger_id: unpublished.case_trigger_id,
        payload_hash: unpublished.payload_hash,
        publish_decision: null,
      },
    ];
    const db = scriptedPool(ledger([fresh.case_trigger_id], stored));
    const answers = await postgresCaseTriggerStore(db.pool, STREAM).claim([
      seen,
      fresh,
      changed,
      unpublished,
    ]);
    expect(answers).toEqual([
      { status: 'SEEN', publish_decision: 'AMBIGUOUS' },
      { status: 'NEW' },
      { status: 'PAYLOAD_MISMATCH', stored_payload_hash: HASH },
      { status: 'SEEN', publish_decision: null },
    ]);
    expect(db.calls).toHaveLength(2);
    const [, read] = db.calls;
    expect(read?.sql).toMatch(/LEFT JOIN ct_trigger_publish p[\s\S]*case_trigger_id = ANY\(\$2::text\[\]\)$/);
    expect(read?.params).toEqual([
      STREAM,
      [seen.case_trigger_id, changed.case_trigger_id, unpublished.case_trigger_id],
    ]);
  });

  it('no claims: no statement; a trigger named twice: InvariantViolation before any statement', async () => {
    const db = scriptedPool();
    const store = postgresCaseTriggerStore(db.pool, STREAM);
    expect(await store.claim([])).toEqual([]);
    await expect(store.claim([claimOf('a'), claimOf('b'), claimOf('a', OTHER)])).rejects.toThrow(
      new InvariantViolation('a ledger claim names a trigger twice'),
    );
    expect(db.calls).toEqual([]);
  });

  it('a trigger that conflicted but is not stored: InvariantViolation naming it', async () => {
    const [a, b] = [claimOf('a'), claimOf('b')];
    const db = scriptedPool(
      ledger(
        [],
        [{ case_trigger_id: a.case_trigger_id, payload_hash: a.payload_hash, publish_decision: null }],
      ),
    );
    const error = await postgresCaseTriggerStore(db.pool, STREAM)
      .claim([a, b])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvariantViolation);
    expect((error as Error).message).toContain(`case trigger ${b.case_trigger_id} conflicted but is absent`);
    expect(db.calls.map((c) => c.params[1])).toEqual([
      [a.case_trigger_id, b.case_trigger_id],
      [a.case_trigger_id, b.case_trigger_id],
    ]);
  });
});

describe('the case trigger Postgres store: publish decisions, anomalies and counters', () => {
  it('recordPublish sends each trigger once (the first record kept), nulls as null; nothing for none', async () => {
    const records: PublishRecord[] = [
      { case_trigger_id: 't-1', decision: 'AMBIGUOUS', receipt_ref: null, reason_code: 'IG_UNAVAILABLE' },
      { case_trigger_id: 't-2', decision: 'ADMIT', receipt_ref: 'receipt-2', reason_code: null },
      { case_trigger_id: 't-1', decision: 'ADMIT', receipt_ref: 'receipt-1', reason_code: null },
    ];
    const db = scriptedPool();
    const store = postgresCaseTriggerStore(db.pool, STREAM);
    await store.recordPublish([]);
    expect(db.calls).toEqual([]);
    await store.recordPublish(records);
    expect(db.calls).toHaveLength(1);
    expect(db.calls[0]?.sql).toMatch(
      /DO UPDATE SET[\s\S]*WHERE ct_trigger_publish.publish_decision = 'AMBIGUOUS'$/,
    );
    expect(db.calls[0]?.params).toEqual([
      STREAM,
      ['t-1', 't-2'],
      ['AMBIGUOUS', 'ADMIT'],
      [null, 'receipt-2'],
      ['IG_UNAVAILABLE', null],
    ]);
  });

  it('recordAnomalies sends each (trigger, observed hash) once; the same trigger with another hash is kept', async () => {
    const db = scriptedPool();
    const store = postgresCaseTriggerStore(db.pool, STREAM);
    await store.recordAnomalies([]);
    expect(db.calls).toEqual([]);
    await store.recordAnomalies([
      anomaly('t-1', OTHER),
      anomaly('t-1', 'e'.repeat(64)),
      anomaly('t-1', OTHER, 'f'.repeat(64)),
      anomaly('t-2', OTHER),
    ]);
    expect(db.calls).toHaveLength(1);
    expect(db.calls[0]?.sql).toMatch(/^INSERT INTO ct_anomalies[\s\S]*'CASE_TRIGGER_PAYLOAD_MISMATCH'/);
    expect(db.calls[0]?.params).toEqual([
      STREAM,
      ['t-1', 't-1', 't-2'],
      [OTHER, 'e'.repeat(64), OTHER],
      [HASH, HASH, HASH],
      ['decision:t-1', 'decision:t-1', 'decision:t-2'],
      [RUN, RUN, RUN],
      [SCENARIO, SCENARIO, SCENARIO],
      [SEEN_AT, SEEN_AT, SEEN_AT],
    ]);
  });

  it('addMetrics sends only positive additions, values as decimal text; nothing when none is positive', async () => {
    const db = scriptedPool();
    const store = postgresCaseTriggerStore(db.pool, STREAM);
    await store.addMetrics({});
    await store.addMetrics({ triggers_new: 0, parked: -1 });
    expect(db.calls).toEqual([]);
    await store.addMetrics({ triggers_new: 3, parked: 0, triggers_seen: 9_007_199_254_740_991 });
    expect(db.calls).toHaveLength(1);
    expect(db.calls[0]?.sql).toMatch(
      /^INSERT INTO ct_metrics[\s\S]*value = ct_metrics.value \+ EXCLUDED.value/,
    );
    expect(db.calls[0]?.params).toEqual([
      STREAM,
      ['triggers_new', 'triggers_seen'],
      ['3', '9007199254740991'],
    ]);
  });

  it('metrics reads the stream counters and answers them as numbers; none: an empty record', async () => {
    const rows = [
      { metric_name: 'parked', value: '2' },
      { metric_name: 'triggers_new', value: '40' },
    ];
    let answer: ScriptedAnswer = { rows };
    const db = scriptedPool(() => answer);
    const store = postgresCaseTriggerStore(db.pool, STREAM);
    expect(await store.metrics()).toEqual({ parked: 2, triggers_new: 40 });
    answer = undefined;
    expect(await store.metrics()).toEqual({});
    expect(db.calls.map((c) => c.params)).toEqual([[STREAM], [STREAM]]);
    expect(db.calls[0]?.sql).toMatch(/FROM ct_metrics WHERE stream_id = \$1 ORDER BY metric_name$/);
  });
});

describe('the case trigger Postgres store: errors', () => {
  it('an unreachable database is DatabaseUnavailable from every method; any other error is passed on as it is', async () => {
    const store = postgresCaseTriggerStore(
      failing(withCode('connect ECONNREFUSED', 'ECONNREFUSED')).pool,
      STREAM,
    );
    const calls = [
      () => store.recordDecisionSources([source('a')]),
      () => store.decisionSources([decisionIdOf('a')]),
      () => store.park([outcome('a')]),
      () => store.waitingFor([decisionIdOf('a')]),
      () => store.markRaised([{ outcome_id: 'o', case_trigger_id: 't', disposition: 'PUBLISHED' }]),
      () => store.claim([claimOf('a')]),
      () =>
        store.recordPublish([
          { case_trigger_id: 't', decision: 'ADMIT', receipt_ref: 'r', reason_code: null },
        ]),
      () => store.recordAnomalies([anomaly('t', OTHER)]),
      () => store.addMetrics({ parked: 1 }),
      () => store.metrics(),
    ];
    for (const call of calls) await expect(call()).rejects.toBeInstanceOf(DatabaseUnavailable);

    const syntax = withCode('syntax error at or near "unnest"', '42601');
    const other = postgresCaseTriggerStore(failing(syntax).pool, STREAM);
    await expect(other.claim([claimOf('a')])).rejects.toBe(syntax);
    await expect(other.metrics()).rejects.toBe(syntax);
  });
});
