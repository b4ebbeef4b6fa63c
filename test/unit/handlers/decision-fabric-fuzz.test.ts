import './handler-environment.ts';
import './silent-logs.ts';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/decision-fabric/decision-fabric.ts';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import { type FabricWorld, fabricWorld, storedPosture } from '../decision-fabric/fakes.ts';
import { flowRecords, project, projectFlows } from '../decision-fabric/flows.ts';
import { jsonText } from '../ingestion-gate/fuzz-inputs.ts';
import { lambdaContext } from './factories.ts';
import { fuzzParameters, RUNS } from './fuzz-runs.ts';
import { DECISION_FABRIC_STREAM } from './fuzzed-stream-handlers.ts';
import { type BusCase, busCase, busEvent, PRID, TOPICS } from './projector-fuzz.ts';
import { tally } from './projector-fuzz-accounting.ts';

/**
 * Fuzz: no record crashes the decision fabric or vanishes. Its real bus edge and core (functions/decision-fabric)
 * run on in-memory ports (test/unit/decision-fabric/fakes.ts: the context over in-memory OFP and CSFB stores that
 * know the fuzz's flow or not, the replay ledger, IG, the posture, a fake clock) and get random batches
 * (projector-fuzz.ts: envelopes of every type with fields changed, random JSON and bytes, repeats, other runs,
 * redeliveries). The contract: every record is decided or counted as rejected, and only a port outage (Postgres, or
 * IG alone) fails the batch — then as a whole, nothing set aside — and once the outage ends the mapping's retry
 * publishes what the ledger holds.
 */

// The fabric's own settings, read when the handler is imported: a short join wait (the fake clock sleeps it).
vi.hoisted(() => {
  Object.assign(process.env, {
    DECISION_FABRIC_IG_API_KEY: 'handler-test-key',
    DECISION_FABRIC_JOIN_WAIT_MS: '200',
    DECISION_FABRIC_POLL_MS: '50',
  });
});
// The handlers' loggers are built (silent); loggers built later are not.
delete process.env.AWS_LAMBDA_LOG_LEVEL;

const world = vi.hoisted(() => ({
  w: undefined as unknown as FabricWorld,
  run: '',
  setAside: [] as string[],
}));

vi.mock('../../../lib/adapters/decision-fabric-dependencies.ts', async (original) => ({
  ...(await original<object>()),
  decisionFabricDependencies: () => ({
    portsFor: async () => ({ platformRunId: world.run, ports: world.w.ports }),
    busOptions: (service: string) => ({
      service,
      streamPrefix: '',
      onPoison: async (record: { offset: string }) => {
        world.setAside.push(record.offset);
      },
    }),
  }),
}));

type Posture = 'NORMAL' | 'DEGRADED_1' | 'missing' | 'stale';
const context = lambdaContext();
const answer = async (e: unknown) =>
  (await (handler as (event: unknown, ctx: Context) => Promise<unknown>)(
    e,
    context,
  )) as KinesisStreamBatchResponse;

/**
 * A world that knows the flow the fuzz's traffic envelopes name (its anchor in both stores), with the traffic topic
 * applied past every fuzz offset on shards 0 and 1 (on 2 and 3 the features lag: STALE_INPUT_BASIS).
 */
async function seededWorld(posture: Posture, known = true) {
  const w = fabricWorld();
  const flow = (partition: number, flowId: bigint, arrivalSeq: number) =>
    flowRecords({
      flowId,
      arrivalSeq,
      partition,
      anchorTs: '2026-03-08T00:01:00.000000Z',
      trafficTs: '2026-03-08T00:00:30.000000Z',
    });
  const flows = [flow(0, 9_000_000_000_000_000_001n, 7), flow(1, 9_000_000_000_000_000_002n, 8)];
  // Unknown: the features have the traffic but no anchor came, to either store (CONTEXT_MISSING).
  if (known) await projectFlows(w, flows);
  else await project(w, { features: flows.map((f) => f.traffic) });
  const now = w.clock.now();
  w.posture.stored =
    posture === 'missing'
      ? undefined
      : storedPosture(posture === 'stale' ? 'NORMAL' : posture, now, posture === 'stale' ? 500 : 5);
  return w;
}

/** The deliveries of one case: the batch, then maybe the mapping's retry or the same events again. */
function deliveries(c: BusCase): KinesisStreamEvent[] {
  const data = c.picks.map((i) => c.data[i % c.data.length] as string);
  const first = busEvent(c.topic, c.shard, data, 49_000n);
  if (c.redelivery === 'retry') return [first, first];
  if (c.redelivery === 'new-offsets') return [first, busEvent(c.topic, c.shard, data, 59_000n)];
  if (c.redelivery === 'changed-data')
    return [first, busEvent(c.topic, c.shard, [...data.slice(1), data[0] as string], 49_000n)];
  return [first];
}

/** The records the fabric accounted for: rejected by the inlet or the run scope, or decided. */
const accounted = (w: FabricWorld) =>
  [...w.ledger.metrics].reduce(
    (n, [name, v]) =>
      n +
      (name.startsWith('inlet_rejected|') || name === 'run_scope_mismatch' || name === 'decisions_total'
        ? v
        : 0),
    0,
  );
const published = (w: FabricWorld, ids: readonly string[]) =>
  ids.every((id) => w.ledger.rows.get(id)?.published);

describe('decision-fabric (bus edge) under fuzz', () => {
  it('every record is decided or counted as rejected; only a port outage fails the batch, as a whole; never a throw', {
    timeout: Math.max(30_000, RUNS * 100),
  }, async () => {
    const seen = tally();
    await fc.assert(
      fc.asyncProperty(
        busCase(DECISION_FABRIC_STREAM.topics),
        fc.constantFrom<Posture>('NORMAL', 'NORMAL', 'DEGRADED_1', 'missing', 'stale'),
        fc.constantFrom(true, true, true, false),
        // IG down (Postgres up) until the outage ends.
        fc.constantFrom(false, false, false, true),
        async (c, posture, known, igDown) => {
          const w = await seededWorld(posture, known);
          w.outage.after = c.outageAfter;
          w.outage.ig = igDown;
          Object.assign(world, { w, run: c.run, setAside: [] });
          const failed: KinesisStreamEvent[] = [];
          for (const e of deliveries(c)) {
            const offsets = e.Records.map((r) => r.kinesis.sequenceNumber);
            const [before, claimsBefore] = [accounted(w), w.ledger.claims.length];
            const decidedBefore = w.ledger.metrics.get('decisions_total') ?? 0;
            const { batchItemFailures } = await answer(e);
            const claims = w.ledger.claims.slice(claimsBefore);
            const where =
              `${offsets.length} records on ${c.topic}, run ${c.run}, posture ${posture}, flow known ${known}, ` +
              `outage ${c.outageAfter}, IG down ${igDown}`;
            seen.add('records', offsets.length);
            if (batchItemFailures.length === 0) {
              expect(accounted(w) - before, where).toBe(offsets.length);
              // The batch decided at once (one claim), each decision published or replayed before it answered.
              expect(claims.length, where).toBeLessThanOrEqual(1);
              const decided = claims.flat().map((entry) => entry.decision_id);
              expect((w.ledger.metrics.get('decisions_total') ?? 0) - decidedBefore, where).toBe(
                decided.length,
              );
              expect(published(w, decided), where).toBe(true);
            } else {
              seen.add('failedBatches');
              expect(
                c.outageAfter !== undefined || igDown,
                `${where}: a batch failed with its ports up`,
              ).toBe(true);
              expect(
                batchItemFailures.map((f) => f.itemIdentifier),
                where,
              ).toEqual(offsets);
              expect(accounted(w), `${where}: a failed batch counted`).toBe(before);
              failed.push(e);
            }
          }
          // The outage ends; the mapping retries each failed batch, and the ledger's decisions all go out.
          Object.assign(w.outage, { after: undefined, ig: false });
          for (const e of failed) expect(await answer(e)).toEqual({ batchItemFailures: [] });
          // Nothing was ever set aside: a failing port fails the batch, it never makes a record poison.
          expect(world.setAside).toEqual([]);
          for (const row of w.ledger.rows.values()) {
            expect(row.published, row.entry.decision_id).toBe(true);
            for (const envelope of row.entry.envelopes)
              expect(w.ig.received.get(envelope.event_id)?.has(canonicalJson(envelope))).toBe(true);
          }
          for (const [name, n] of w.ledger.metrics)
            if (
              name.startsWith('decisions|') ||
              name.startsWith('inlet_rejected|') ||
              name.endsWith('_total')
            )
              seen.add(name, n);
        },
      ),
      fuzzParameters(RUNS),
    );
    expect(seen.counts.records).toBeGreaterThanOrEqual(RUNS);
    const reached = [
      'records',
      'failedBatches',
      'decisions|action=ALLOW',
      'decisions|action=STEP_UP',
      'decisions|action=QUEUE_REVIEW',
      'decisions|context=CONTEXT_READY',
      'decisions|context=CONTEXT_MISSING',
      'decisions|context=CONTEXT_BLOCKED',
      'stale_input_basis_total',
      'replay_match_total',
      'inlet_rejected|reason=INVALID_ENVELOPE',
      'inlet_rejected|reason=NON_TRAFFIC_TOPIC',
      'inlet_rejected|reason=LOOP_PREVENTION',
      'inlet_rejected|reason=EVENT_TYPE_NOT_ALLOWED',
      'inlet_rejected|reason=MISSING_REQUIRED_PINS',
      'inlet_rejected|reason=DUPLICATE',
    ];
    for (const what of reached) expect(seen.counts[what] ?? 0, what).toBeGreaterThan(5);
  });
});

describe('decision-fabric: an event that is not a Kinesis batch', () => {
  it('is a ParseError; nothing is decided or counted', async () => {
    const valid = busEvent(
      TOPICS.traffic,
      0,
      [Buffer.from(jsonText({ event_id: 'e-1' })).toString('base64')],
      49_000n,
    );
    const shell = valid.Records[0] as unknown as Record<string, unknown>;
    const broken: unknown[] = [
      null,
      {},
      { Records: {} },
      { Records: [null] },
      ...Object.keys(shell).map((k) => ({ Records: [{ ...shell, [k]: undefined }] })),
    ];
    for (const input of broken) {
      const w = await seededWorld('NORMAL');
      Object.assign(world, { w, run: PRID, setAside: [] });
      await expect(answer(input), JSON.stringify(input)).rejects.toMatchObject({ name: 'ParseError' });
      expect(w.ledger.claims).toEqual([]);
      expect(w.ledger.metrics.size).toBe(0);
    }
  });
});
