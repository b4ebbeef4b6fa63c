import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { PlatformError, PoisonError, RetryableError } from '../errors/platform-error.ts';

/**
 * Ordered processing of a Kinesis batch for every stream handler (Powertools batch underneath):
 * records run one at a time in stream order; when a record fails, the later records of the same partition
 * key are not run (they are reported too), so a retry never applies a key's records out of order. The
 * answer is `batchItemFailures`, from which the event-source mapping retries at the lowest failed record.
 */

export { PoisonError, RetryableError };

class SkippedAfterEarlierFailure extends RetryableError<'SkippedAfterEarlierFailure'> {
  constructor(message: string) {
    super(message, 'SkippedAfterEarlierFailure');
  }
}

/** Poison: a PlatformError no retry can fix (a PoisonError, or any non-retryable reason code). */
const poisonOf = (error: unknown): PlatformError | undefined =>
  error instanceof PlatformError && !error.retryable ? error : undefined;

export interface OrderedBatchOptions {
  /** Quarantines a poison record (with evidence); once it returns, the record counts as handled. Without it, poison is reported. */
  onPoison?: (record: KinesisStreamRecord, error: PlatformError) => Promise<void>;
  context?: Context;
}

export async function processInOrder(
  event: KinesisStreamEvent,
  recordHandler: (record: KinesisStreamRecord) => Promise<void>,
  options: OrderedBatchOptions = {},
): Promise<KinesisStreamBatchResponse> {
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  const failedKeys = new Set<string>();
  const handle = async (record: KinesisStreamRecord): Promise<void> => {
    const key = record.kinesis.partitionKey;
    if (failedKeys.has(key))
      throw new SkippedAfterEarlierFailure(`an earlier record of partition key ${key} failed`);
    try {
      await recordHandler(record);
    } catch (error) {
      // The key is blocked before anything else can fail, so a later record of it never overtakes this one.
      failedKeys.add(key);
      const poison = poisonOf(error);
      if (poison && options.onPoison) {
        await options.onPoison(record, poison); // a failing quarantine leaves the record reported and the key blocked
        failedKeys.delete(key);
        return;
      }
      throw error;
    }
  };
  return processPartialResponse(event, handle, processor, {
    ...(options.context ? { context: options.context } : {}),
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
}
