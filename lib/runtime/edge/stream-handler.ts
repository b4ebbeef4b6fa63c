import { parser } from '@aws-lambda-powertools/parser/middleware';
import {
  KinesisDataStreamRecord,
  KinesisDataStreamSchema,
} from '@aws-lambda-powertools/parser/schemas/kinesis';
import middy from '@middy/core';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { z } from 'zod';
import { describeIssues, type PlatformError, PoisonError } from '../../errors/platform-error.ts';
import { processInOrder } from '../ordered-batch.ts';
import { correlationIdOf, type Edge, type EdgeHandler, type EdgeOptions, edgeLogger } from './edge-common.ts';

/**
 * The Kinesis event-source mapping edge: the event checked against Powertools' KinesisDataStreamSchema (the data
 * kept as base64: records are decoded here, with 64-bit ints intact), records run in order per partition key
 * (lib/runtime/ordered-batch.ts), each record's data parsed by the handler's record schema. A record that fails
 * its schema, or whose core throws a non-retryable PlatformError, is poison: `onPoison` sets it aside with its
 * evidence and the shard moves on; a retryable or unknown error is a batch item failure, retried from that record.
 */

/** A Kinesis event, each record's data kept as base64 (decoded by the edge, so 64-bit ints stay exact). */
export const KinesisEvent = KinesisDataStreamSchema.extend({
  Records: z
    .array(
      KinesisDataStreamRecord.extend({
        kinesis: KinesisDataStreamRecord.shape.kinesis.extend({ data: z.base64() }),
      }),
    )
    .min(1),
});

export interface StreamEdgeOptions extends EdgeOptions {
  /** Sets a poison record aside with its evidence; once it returns, the record counts as handled. */
  onPoison: (record: KinesisStreamRecord, error: PlatformError, edge: Edge) => Promise<void>;
}

export function streamHandler<S extends z.ZodType>(
  recordSchema: S,
  core: (record: z.output<S>, edge: Edge & { record: KinesisStreamRecord }) => Promise<void>,
  options: StreamEdgeOptions,
) {
  const { logger, middleware } = edgeLogger(options.service);
  const handler = middy<unknown, KinesisStreamBatchResponse>()
    .use(middleware)
    .use(parser({ schema: KinesisEvent }))
    .handler(async (event, context) => {
      const edge = { context, logger };
      return processInOrder(
        event as unknown as KinesisStreamEvent,
        async (record) => {
          const text = Buffer.from(record.kinesis.data, 'base64').toString('utf8');
          const parsed = recordSchema.safeParse(text);
          if (!parsed.success) throw new PoisonError(describeIssues(parsed.error.issues), 'RECORD_INVALID');
          logger.setCorrelationId(correlationIdOf(parsed.data) ?? record.eventID);
          await core(parsed.data, { ...edge, record });
        },
        { onPoison: (record, error) => options.onPoison(record, error, edge), context },
      );
    });
  return handler as unknown as EdgeHandler<KinesisStreamBatchResponse>;
}
