import type { KinesisStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { DatabaseUnavailable } from '../../../lib/adapters/postgres/pool.ts';
import { compareOffsets } from '../../../lib/contracts/consumer-checkpoint.ts';
import { contextRecord } from '../../support/context-store.ts';
import { graphRecord } from '../../support/identity-graph.ts';
import { trafficRecord } from '../../support/online-features.ts';
import { fakePorts } from '../archive-writer/fakes.ts';
import { inMemoryContextStore } from '../context-store/in-memory-context-store.ts';
import { inMemoryIdentityGraphStore } from '../identity-graph/in-memory-identity-graph-store.ts';
import { hostileString, hostileValue, jsonText, Raw } from '../ingestion-gate/fuzz-inputs.ts';
import { anchorRecord } from '../online-features/anchor-records.ts';
import { inMemoryOnlineFeatureStore } from '../online-features/in-memory-online-feature-store.ts';
import { kinesisEvent } from './factories.ts';

/**
 * Inputs and in-memory ports for the RTDL projectors' stream fuzz (projector-fuzz.test.ts): bus records (envelopes of
 * every event type with pins, runs, ids and payload fields replaced or deleted; random JSON; random bytes) and one
 * harness per run — the projectors' real in-memory stores, watched: which records' transactions committed, and an
 * outage that makes every store call fail after a number of transactions.
 */

/** The run the envelopes of test/support carry. */
export const PRID = 'platform_20260302T000000Z';
export const OTHER_RUN = 'platform_20260309T000000Z';
export const NO_ACTIVE_RUN = '_no_active_run';

export const TOPICS = {
  traffic: 'fp.bus.traffic.fraud.v1',
  trafficBaseline: 'fp.bus.traffic.baseline.v1',
  arrivalEvents: 'fp.bus.context.arrival_events.v1',
  arrivalEntities: 'fp.bus.context.arrival_entities.v1',
  flowAnchor: 'fp.bus.context.flow_anchor.fraud.v1',
  flowAnchorBaseline: 'fp.bus.context.flow_anchor.baseline.v1',
  rtdl: 'fp.bus.rtdl.v1',
  case: 'fp.bus.case.v1',
  audit: 'fp.bus.audit.v1',
};

/** One of each event type the projectors judge: traffic, context, anchors (both shapes), a decision. */
const BASES: readonly Record<string, unknown>[] = [
  graphRecord('s3_event_stream_with_fraud_6B').envelope,
  trafficRecord().envelope,
  contextRecord('arrival_events_5B').envelope,
  graphRecord('s1_arrival_entities_6B').envelope,
  graphRecord('s3_flow_anchor_with_fraud_6B').envelope,
  anchorRecord().envelope,
  contextRecord('s2_flow_anchor_baseline_6B').envelope,
  graphRecord('decision_response').envelope,
];
const EVENT_TYPES = [...new Set(BASES.map((b) => b.event_type as string)), 'ig.quarantine.spike', 'nonsense'];
const ENVELOPE_FIELDS = [...new Set(BASES.flatMap((b) => Object.keys(b))), 'extra'];
const PAYLOAD_FIELDS = [
  'flow_id',
  'amount',
  'merchant_id',
  'arrival_seq',
  'account_id',
  'party_id',
  'device_id',
];

/** How deep a JSON text nests (brackets outside strings). */
export function nestingOf(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') deepest = Math.max(deepest, ++depth);
    else if (c === ']' || c === '}') depth--;
  }
  return deepest;
}

/**
 * Canonical JSON (the payload hash every projector takes) holds at most 1000 levels; a field nested deeper makes
 * the cores throw — a known bug pinned in projector-fuzz.test.ts, kept out of the random envelopes here.
 */
export const CANONICAL_DEPTH = 1000;
const fieldValue = hostileValue.filter(
  (v) => !(v instanceof Raw) || nestingOf(v.text) < CANONICAL_DEPTH - 10,
);

const change = (fields: readonly string[]) =>
  fc.array(fc.tuple(fc.constantFrom(...fields), fc.option(fieldValue, { freq: 3 })), { maxLength: 2 });

const put = (target: Record<string, unknown>, key: string, value: unknown) => {
  if (value === null) delete target[key];
  else target[key] = value instanceof Raw ? value : structuredClone(value);
};

/** An envelope: a base of any event type, its id from a pool of three (duplicates, mismatches), fields changed. */
const envelope = fc
  .record({
    base: fc.constantFrom(...BASES),
    eventId: fc.constantFrom('e-1', 'e-2', 'e-3'),
    eventType: fc.oneof(
      { weight: 4, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.constantFrom(...EVENT_TYPES) },
    ),
    run: fc.constantFrom<string | null>(PRID, PRID, PRID, PRID, PRID, OTHER_RUN, null),
    changes: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, change(ENVELOPE_FIELDS)),
    payloadChanges: fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, change(PAYLOAD_FIELDS)),
  })
  .map(({ base, eventId, eventType, run, changes, payloadChanges }) => {
    const out: Record<string, unknown> = { ...base, event_id: eventId };
    if (eventType !== null) out.event_type = eventType;
    put(out, 'platform_run_id', run);
    for (const [key, value] of changes) put(out, key, value);
    if (typeof out.payload === 'object' && out.payload !== null && !(out.payload instanceof Raw)) {
      const payload = { ...(out.payload as Record<string, unknown>) };
      for (const [key, value] of payloadChanges) put(payload, key, value);
      out.payload = payload;
    }
    return out;
  });

/** Text that is no envelope: random JSON, hostile text, a few fixed shapes that break parsers. */
const otherText = fc.oneof(
  { weight: 2, arbitrary: fc.oneof(hostileString, fc.json({ maxDepth: 3 }), hostileValue.map(jsonText)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      'not json {',
      'null',
      '{"event_id":"e-1","event_type":"s3_event_stream_with_fraud_6B"}',
      `${'{"payload":'.repeat(3_000)}{}${'}'.repeat(3_000)}`,
      '['.repeat(100_000),
      jsonText({ ...BASES[0], payload: { flow_id: 1, amount: 'x'.repeat(200_000) } }),
    ),
  },
);

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** A record's data: an envelope (as an object, rendered later), other UTF-8 text, or any bytes (base64). */
const recordData = fc.oneof(
  { weight: 8, arbitrary: envelope.map((value) => ({ envelope: value })) },
  { weight: 1, arbitrary: otherText.map((text) => ({ data: base64(text) })) },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ data: Buffer.from(b).toString('base64') })),
  },
);

/** How a second delivery of the batch comes: the mapping's retry, the same events at new offsets, other bytes. */
export type Redelivery = 'none' | 'retry' | 'new-offsets' | 'changed-data';

export interface BusCase {
  topic: string;
  shard: number;
  /** The distinct data of the batch (base64); records pick from them, so one batch can repeat a record exactly. */
  data: string[];
  picks: number[];
  redelivery: Redelivery;
  /** The run of the batch's scope (the active run, another, or none). */
  run: string;
  /** Store transactions that succeed before an outage (undefined: no outage). */
  outageAfter: number | undefined;
}

export const busCase = (topics: readonly string[]): fc.Arbitrary<BusCase> =>
  fc
    .record({
      // A topic the function consumes, or one its mapping should never deliver.
      topic: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...topics) },
        { weight: 1, arbitrary: fc.constantFrom(...Object.values(TOPICS)) },
      ),
      shard: fc.nat({ max: 3 }),
      data: fc.array(recordData, { minLength: 1, maxLength: 5 }),
      // The first envelope again with another schema version (part of the payload hash): a payload mismatch.
      sibling: fc.boolean(),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
      redelivery: fc.constantFrom<Redelivery>('none', 'none', 'retry', 'new-offsets', 'changed-data'),
      run: fc.constantFrom(PRID, PRID, PRID, PRID, PRID, OTHER_RUN, NO_ACTIVE_RUN),
      outageAfter: fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.nat({ max: 12 }) },
      ),
    })
    .map(({ data, sibling, ...rest }) => {
      const first = data.find((d) => 'envelope' in d);
      const all =
        sibling && first && 'envelope' in first
          ? [...data, { envelope: { ...first.envelope, schema_version: 'v9' } }]
          : data;
      return {
        ...rest,
        data: all.map((d) => ('envelope' in d ? base64(jsonText(d.envelope)) : d.data)),
      };
    });

/** A Kinesis event of `data` on `topic`'s shard, sequence numbers ascending from `first`. */
export function busEvent(
  topic: string,
  shard: number,
  data: readonly string[],
  first: bigint,
): KinesisStreamEvent {
  const event = kinesisEvent(data.map((_, i) => ({ data: '', sequenceNumber: String(first + BigInt(i)) })));
  event.Records.forEach((r, i) => {
    r.kinesis.data = data[i] ?? '';
    r.kinesis.partitionKey = `pk-${i % 2}`;
    r.eventSourceARN = `arn:aws:kinesis:us-east-1:000000000000:stream/${topic}`;
    r.eventID = `shardId-${String(shard).padStart(12, '0')}:${r.kinesis.sequenceNumber}`;
  });
  return event;
}

interface Transactional<T> {
  inTransaction<R>(work: (transaction: T) => Promise<R>): Promise<R>;
}

/**
 * One run's ports: the four projectors' in-memory stores (one per stream id, as Postgres scopes rows), the batch's
 * run scope, and an outage after `outageAfter` store transactions (every later one throws DatabaseUnavailable).
 */
export function projectorHarness(run: string, outageAfter: number | undefined) {
  const state = { transactions: 0, outageAfter, run };
  /** The checkpoint offsets written by committed record transactions, in order (one per accounted record). */
  const committed: string[] = [];
  const down = () => {
    if (state.outageAfter !== undefined && state.transactions++ >= state.outageAfter)
      throw new DatabaseUnavailable(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
  };

  /** The store with its transactions counted against the outage and their checkpoint writes recorded. */
  function watched<T extends { writeCheckpoint(c: never): Promise<void> }, S extends Transactional<T>>(
    store: S,
  ): S {
    return {
      ...store,
      async inTransaction<R>(work: (transaction: T) => Promise<R>): Promise<R> {
        down();
        const offsets: string[] = [];
        const result = await store.inTransaction((transaction: T) =>
          work({
            ...transaction,
            writeCheckpoint: (c: never) => {
              offsets.push((c as { next_offset: string }).next_offset);
              return transaction.writeCheckpoint(c);
            },
          }),
        );
        committed.push(...offsets);
        return result;
      },
    };
  }

  const graphs = new Map<string, ReturnType<typeof inMemoryIdentityGraphStore>>();
  const contexts = new Map<string, ReturnType<typeof inMemoryContextStore>>();
  const features = new Map<string, ReturnType<typeof inMemoryOnlineFeatureStore>>();
  const once = <V>(map: Map<string, V>, key: string, make: () => V) => {
    if (!map.has(key)) map.set(key, make());
    return map.get(key) as V;
  };

  const archive = fakePorts();
  /** The offsets of records the bus edge set aside as poison. */
  const setAside: string[] = [];
  return {
    state,
    committed,
    setAside,
    graphs,
    contexts,
    features,
    archive,
    graphStore: (streamId: string) =>
      watched(once(graphs, streamId, () => inMemoryIdentityGraphStore(streamId))),
    contextStore: (streamId: string) =>
      watched(once(contexts, streamId, () => inMemoryContextStore(streamId))),
    featureStore: (streamId: string) =>
      watched(once(features, streamId, () => inMemoryOnlineFeatureStore(streamId))),
    /** The archive writer's outage: its segment writes fail (its ledger commits nothing then). */
    archiveOutage: () => {
      archive.segments.control.failing = outageAfter !== undefined;
    },
  };
}
export type ProjectorHarness = ReturnType<typeof projectorHarness>;

/** Sums of a set of `{name: n}` maps. */
export function sumCounts(maps: Iterable<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Whether a committed checkpoint write covers the record at `offset` (the checkpoint never moves back). */
export const covers = (checkpoint: string | undefined, offset: string) =>
  checkpoint !== undefined && compareOffsets(checkpoint, offset) >= 0;
