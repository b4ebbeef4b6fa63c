import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import type { KinesisStreamBatchResponse } from 'aws-lambda';
import type { z } from 'zod';
import { parseJsonLossless } from '../../contracts/canonical-json.ts';
import { PlatformError } from '../../errors/platform-error.ts';
import { type Edge, type EdgeHandler, type EdgeOptions, edgeLogger } from './edge-common.ts';
import { KinesisEvent } from './stream-handler.ts';

/**
 * The event-bus edge of the RTDL projectors (archive writer, identity graph, context store, online features). Unlike
 * `streamHandler`, it never judges a record: every record becomes a `BusRecord` (where it sits on the bus, its
 * bytes as text, its data parsed as lossless JSON or `undefined` when it is not JSON), and the core decides — a
 * malformed record is a failure row or a skip counter in the core's own transaction, which advances its checkpoint,
 * so the shard moves on and nothing is lost. A thrown error (a store outage) fails the whole batch; the event-source
 * mapping retries it (its retry limit, bisect and on-failure destination in
 * serverless.yml keep one bad record from stalling the shard).
 *
 * The core gets the whole batch: the archive writer writes one segment per batch; the other projectors apply the
 * records in stream order inside one Postgres transaction per batch (one commit, not one per record).
 */

/** One record as the projectors see it: topic (the stream name without the stage prefix), partition, offset. */
export interface BusRecord {
  topic: string;
  /** The integer suffix of the shard id (downstream.md §1). */
  partition: number;
  /** The Kinesis sequence number. */
  offset: string;
  offset_kind: 'kinesis_sequence';
  /** When Kinesis accepted the record (its approximate arrival time). */
  published_at_utc: string;
  /** The record's bytes as UTF-8 text. */
  data: string;
  /** The data parsed as JSON (64-bit integers kept exact); undefined when it is not JSON or nests over 512 deep. */
  envelope: unknown;
}

type KinesisRecord = z.output<typeof KinesisEvent>['Records'][number];

const SHARD_SUFFIX = /shardId-0*([0-9]+):/;
const STREAM_NAME = /:stream\/([A-Za-z0-9_.-]+)$/;

/** The topic of a stream ARN: its name without the stage's prefix (`fraud-platform-dev-`; empty locally). */
export function topicOf(eventSourceArn: string, streamPrefix: string): string {
  const name = STREAM_NAME.exec(eventSourceArn)?.[1];
  if (name === undefined) throw new Error(`not a Kinesis stream ARN: ${eventSourceArn.slice(0, 200)}`);
  return streamPrefix !== '' && name.startsWith(streamPrefix) ? name.slice(streamPrefix.length) : name;
}

/** The partition of a Kinesis event record: the integer suffix of its shard id (`shardId-000000000003` → 3). */
export function partitionOf(eventId: string): number {
  const digits = SHARD_SUFFIX.exec(eventId)?.[1];
  return digits === undefined ? 0 : Number(digits);
}

/** Deeper than canonical JSON holds (its payload hash would throw): such a record is malformed, like non-JSON. */
const MAX_DEPTH = 512;

function deeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [node, depth] = top;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

function parsedOrUndefined(text: string): unknown {
  try {
    const parsed = parseJsonLossless(text);
    return deeperThan(parsed, MAX_DEPTH) ? undefined : parsed;
  } catch {
    return undefined;
  }
}

export function busRecordOf(record: KinesisRecord, streamPrefix: string): BusRecord {
  const data = Buffer.from(record.kinesis.data, 'base64').toString('utf8');
  return {
    topic: topicOf(record.eventSourceARN, streamPrefix),
    partition: partitionOf(record.eventID),
    offset: record.kinesis.sequenceNumber,
    offset_kind: 'kinesis_sequence',
    published_at_utc: new Date(record.kinesis.approximateArrivalTimestamp * 1000).toISOString(),
    data,
    envelope: parsedOrUndefined(data),
  };
}

export interface BusEdgeOptions extends EdgeOptions {
  /** BUS_STREAM_PREFIX: stripped from stream names to give topics. */
  streamPrefix: string;
  /**
   * Sets aside a record no retry can apply (the core threw a non-retryable PlatformError for it alone, e.g. data
   * Postgres refuses), with its bytes as evidence; once it returns, the record counts as handled.
   */
  onPoison?: (record: BusRecord, error: PlatformError, edge: Edge) => Promise<void>;
}

const isPoison = (error: unknown): error is PlatformError =>
  error instanceof PlatformError && !error.retryable;

/** The batch item failures from record `from` on: the mapping retries at the lowest (that record). */
const failuresFrom = (records: readonly KinesisRecord[], from: number): KinesisStreamBatchResponse => ({
  batchItemFailures: records.slice(from).map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber })),
});

function busEdge(
  options: BusEdgeOptions,
  run: (records: KinesisRecord[], edge: Edge) => Promise<KinesisStreamBatchResponse>,
) {
  const { logger, middleware } = edgeLogger(options.service);
  const handler = middy<unknown, KinesisStreamBatchResponse>()
    .use(middleware)
    .use(parser({ schema: KinesisEvent }))
    .handler(async (event, context) =>
      run((event as z.output<typeof KinesisEvent>).Records, { context, logger }),
    );
  return handler as unknown as EdgeHandler<KinesisStreamBatchResponse>;
}

/**
 * Hands the whole batch to the core. When it throws a retryable or unknown error, the whole batch is retried by the
 * mapping. When it throws a non-retryable PlatformError and `onPoison` is given, the batch is applied again one
 * record at a time: a record that fails alone that way is set aside (`onPoison`) and the rest go on, so one poison
 * record never stalls the shard nor takes the batch with it; any other failure reports the batch from that record.
 */
/**
 * What a core may answer for a batch: nothing (all applied or accounted for), or the index of the first record it
 * would not advance past (the decision log's REPLAY_DIVERGENCE): that record and the rest are reported as failures,
 * so the mapping redelivers from it and the shard does not move past it.
 */
export interface BusBatchAnswer {
  failFrom: number;
}

export function busBatchHandler(
  // biome-ignore lint/suspicious/noConfusingVoidType: a core that answers nothing returns void
  applyBatch: (records: BusRecord[], edge: Edge) => Promise<void | BusBatchAnswer>,
  options: BusEdgeOptions,
) {
  return busEdge(options, async (records, edge) => {
    const bus = records.map((r) => busRecordOf(r, options.streamPrefix));
    try {
      const answer = await applyBatch(bus, edge);
      if (answer && answer.failFrom < records.length)
        return failuresFrom(records, Math.max(0, answer.failFrom));
      return { batchItemFailures: [] };
    } catch (error) {
      if (!(options.onPoison && isPoison(error))) {
        edge.logger.error('bus batch not applied; the mapping retries it', {
          error: error as Error,
          first_sequence_number: records[0]?.kinesis.sequenceNumber,
          records: records.length,
        });
        return failuresFrom(records, 0);
      }
    }
    // A poison record in the batch: find it by applying the records one at a time (each is idempotent).
    for (const [index, record] of bus.entries()) {
      try {
        // A core that will not advance past this record (REPLAY_DIVERGENCE) stops the batch here, as above.
        const answer = await applyBatch([record], edge);
        if (answer && answer.failFrom < 1) return failuresFrom(records, index);
      } catch (error) {
        if (options.onPoison && isPoison(error)) {
          await options.onPoison(record, error, edge);
          continue;
        }
        edge.logger.error('bus record not applied; the mapping retries from it', {
          error: error as Error,
          sequence_number: record.offset,
        });
        return failuresFrom(records, index);
      }
    }
    return { batchItemFailures: [] };
  });
}
