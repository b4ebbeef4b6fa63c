import type { KinesisStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { hostileString, hostileValue, jsonText, Raw } from '../ingestion-gate/fuzz-inputs.ts';
import { busEvent, type Redelivery, TOPICS } from './projector-fuzz.ts';

/**
 * Inputs for the stream fuzz of the rtdl topic's consumers (action-layer-fuzz.test.ts, decision-log-fuzz.test.ts):
 * a consumer's own envelopes (given by its test) with fields replaced or deleted, at the envelope and the payload
 * level, other text (random JSON, hostile strings, shapes that break parsers) and random bytes; batches that pick
 * from a few distinct data (so a batch repeats a record exactly), on the rtdl topic or one the mapping never
 * delivers, and their redeliveries: the mapping's retry, the same events at new offsets, other data at the same
 * offsets.
 */

export const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

const put = (target: Record<string, unknown>, key: string, value: unknown) => {
  if (value === null) delete target[key];
  else target[key] = value instanceof Raw ? value : structuredClone(value);
};

const changes = (fields: readonly string[]) =>
  fc.array(fc.tuple(fc.constantFrom(...fields), fc.option(hostileValue, { freq: 3 })), {
    minLength: 1,
    maxLength: 2,
  });

/** `envelope` with one or two of its fields (or its payload's) replaced by a hostile value or deleted. */
export function changedEnvelope(
  envelope: fc.Arbitrary<Record<string, unknown>>,
  fields: { envelope: readonly string[]; payload: readonly string[] },
): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      envelope,
      fc.oneof(changes([...fields.envelope, 'extra']), fc.constant([])),
      fc.oneof(changes([...fields.payload, 'extra']), fc.constant([])),
    )
    .map(([base, outer, inner]) => {
      const out: Record<string, unknown> = { ...base };
      for (const [key, value] of outer) put(out, key, value);
      if (typeof out.payload === 'object' && out.payload !== null && !(out.payload instanceof Raw)) {
        const payload = { ...(out.payload as Record<string, unknown>) };
        for (const [key, value] of inner) put(payload, key, value);
        out.payload = payload;
      }
      return out;
    });
}

/** Data that is no envelope: other text, or any bytes (base64). */
export const otherData = fc.oneof(
  fc.oneof(hostileString, fc.json({ maxDepth: 3 }), hostileValue.map(jsonText)).map(base64),
  fc
    .constantFrom(
      '',
      'not json {',
      'null',
      '[]',
      '{}',
      '['.repeat(100_000),
      `${'{"a":'.repeat(600)}1${'}'.repeat(600)}`,
    )
    .map(base64),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')),
);

export interface LaneCase {
  topic: string;
  shard: number;
  /** The distinct data of the batch (base64); records pick from them. */
  data: string[];
  picks: number[];
  redelivery: Redelivery;
}

/** A batch of the consumer's envelopes (weight 8), changed ones (2) and other data (1), with its redelivery. */
export const laneCase = (
  envelopes: fc.Arbitrary<Record<string, unknown>>,
  changed: fc.Arbitrary<Record<string, unknown>>,
): fc.Arbitrary<LaneCase> =>
  fc.record({
    topic: fc.oneof(
      { weight: 8, arbitrary: fc.constant(TOPICS.rtdl) },
      { weight: 1, arbitrary: fc.constantFrom(...Object.values(TOPICS)) },
    ),
    shard: fc.nat({ max: 3 }),
    data: fc.array(
      fc.oneof(
        { weight: 8, arbitrary: envelopes.map((e) => base64(jsonText(e))) },
        { weight: 2, arbitrary: changed.map((e) => base64(jsonText(e))) },
        { weight: 1, arbitrary: otherData },
      ),
      { minLength: 1, maxLength: 6 },
    ),
    picks: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
    redelivery: fc.constantFrom<Redelivery>('none', 'retry', 'new-offsets', 'changed-data'),
  });

/** The deliveries of a case: the batch, then maybe the mapping's retry, the same events again, or other data. */
export function deliveries(c: LaneCase): KinesisStreamEvent[] {
  const data = c.picks.map((i) => c.data[i % c.data.length] as string);
  const first = busEvent(c.topic, c.shard, data, 49_000n);
  if (c.redelivery === 'retry') return [first, first];
  if (c.redelivery === 'new-offsets') return [first, busEvent(c.topic, c.shard, data, 59_000n)];
  if (c.redelivery === 'changed-data')
    return [first, busEvent(c.topic, c.shard, [...data.slice(1), data[0] as string], 49_000n)];
  return [first];
}

/** The sequence numbers of an event's records. */
export const offsetsOf = (e: KinesisStreamEvent) => e.Records.map((r) => r.kinesis.sequenceNumber);

/** The event of `e`'s records from `from` on (what the mapping redelivers after a partial batch failure). */
export const eventFrom = (e: KinesisStreamEvent, from: number): KinesisStreamEvent => ({
  Records: e.Records.slice(from),
});
