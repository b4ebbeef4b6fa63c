import type { BatchOutcome } from './batch-outcome.ts';
import type { Clock } from './clock.ts';
import type { FailureCondition } from './failure-record.ts';
import type { StreamRecord } from './stream-record.ts';

/**
 * Runs one batch to its end as Lambda's Kinesis ESM does (aws-semantics.md §1.1): retries a failed batch
 * until MaximumRetryAttempts, resumes after a partial response at the lowest failed record, bisects a
 * failed batch when asked (a split is not a retry), drops records older than MaximumRecordAgeInSeconds,
 * and sends what it gives up on to the failure destination before moving on. Whatever finished before a retry
 * or the next piece is checkpointed first, as Lambda does: a crash in between never delivers it again.
 */

export interface BatchPolicy {
  maximumRetryAttempts: number;
  maximumRecordAgeSeconds: number;
  bisectBatchOnFunctionError: boolean;
}

/** The clock (`now`, `sleep`) reads record ages and paces retries. */
export interface BatchPorts extends Clock {
  invoke(records: StreamRecord[]): Promise<BatchOutcome>;
  sendFailure(
    records: StreamRecord[],
    condition: FailureCondition,
    invokeCount: number,
    lastError: string | undefined,
  ): Promise<void>;
  /** These records are finished (applied or sent to the failure destination): they may be checkpointed. */
  completed(records: StreamRecord[]): void;
  /** Saves the shard's checkpoint (what `completed` marked) before the batch goes on. */
  checkpoint(): Promise<void>;
  onRetry(records: StreamRecord[], reason: string): void;
  stopping(): boolean;
}

export type BatchResult = 'finished' | 'interrupted';

interface Piece {
  records: StreamRecord[];
  retries: number;
  invocations: number;
  lastError: string | undefined;
}

const backoffMs = (retries: number) => Math.min(1000, 25 * 2 ** retries);

export async function runBatch(
  batch: StreamRecord[],
  policy: BatchPolicy,
  ports: BatchPorts,
): Promise<BatchResult> {
  const queue: Piece[] = [{ records: batch, retries: 0, invocations: 0, lastError: undefined }];
  const exhausted = (p: Piece) => policy.maximumRetryAttempts >= 0 && p.retries > policy.maximumRetryAttempts;

  while (queue.length > 0) {
    const piece = queue[0] as Piece;
    if (policy.maximumRecordAgeSeconds >= 0) {
      const limit = ports.now() - policy.maximumRecordAgeSeconds * 1000;
      const expired = piece.records.filter((r) => r.arrival.getTime() < limit);
      if (expired.length > 0) {
        await ports.sendFailure(expired, 'RecordAgeExceeded', piece.invocations, piece.lastError);
        ports.completed(expired);
        piece.records = piece.records.filter((r) => r.arrival.getTime() >= limit);
        if (piece.records.length === 0) queue.shift();
        if (queue.length > 0) await ports.checkpoint();
        if (piece.records.length === 0) continue;
      }
    }
    if (ports.stopping()) return 'interrupted';

    const outcome = await ports.invoke(piece.records);
    if (outcome.kind !== 'invoke-failed') piece.invocations++;
    switch (outcome.kind) {
      case 'success':
        ports.completed(piece.records);
        queue.shift();
        if (queue.length > 0) await ports.checkpoint();
        break;
      case 'partial': {
        ports.completed(piece.records.slice(0, outcome.index));
        if (outcome.index > 0) await ports.checkpoint();
        piece.records = piece.records.slice(outcome.index);
        piece.retries++;
        piece.lastError = `partial batch response: first failed record ${outcome.sequenceNumber}`;
        await giveUpOrRetry(piece);
        break;
      }
      case 'function-error':
        piece.lastError = outcome.error;
        if (policy.bisectBatchOnFunctionError && piece.records.length > 1) {
          const half = Math.ceil(piece.records.length / 2);
          const fresh = (records: StreamRecord[]): Piece => ({
            records,
            retries: 0,
            invocations: 0,
            lastError: undefined,
          });
          queue.splice(0, 1, fresh(piece.records.slice(0, half)), fresh(piece.records.slice(half)));
          ports.onRetry(piece.records, `bisect after: ${outcome.error}`);
        } else {
          piece.retries++;
          await giveUpOrRetry(piece);
        }
        break;
      case 'invoke-failed':
        ports.onRetry(piece.records, `invoke failed (not counted as a retry): ${outcome.error}`);
        await ports.sleep(backoffMs(3));
        break;
    }
  }
  return 'finished';

  async function giveUpOrRetry(piece: Piece): Promise<void> {
    if (exhausted(piece)) {
      await ports.sendFailure(piece.records, 'RetryAttemptsExhausted', piece.invocations, piece.lastError);
      ports.completed(piece.records);
      queue.shift();
      if (queue.length > 0) await ports.checkpoint();
      return;
    }
    ports.onRetry(piece.records, piece.lastError ?? 'retry');
    await ports.sleep(backoffMs(piece.retries));
  }
}
