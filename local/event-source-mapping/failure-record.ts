import { randomUUID } from 'node:crypto';
import type { MappingConfig } from './mapping-config.ts';
import type { StreamRecord } from './stream-record.ts';

/** The on-failure record Lambda sends for a Kinesis batch it gives up on (aws-semantics.md §1.1). */

export type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

export interface FailureRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: FailureCondition;
    approximateInvokeCount: number;
  };
  responseContext: { statusCode: number; executedVersion: string; functionError: string } | undefined;
  version: '1.0';
  timestamp: string;
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
  /** S3 destinations also carry the invocation payload (the batch's event). */
  payload: string;
}

export interface FailureContext {
  mapping: MappingConfig;
  shardId: string;
  condition: FailureCondition;
  invokeCount: number;
  lastError: string | undefined;
  at: Date;
}

export function failureRecord(records: StreamRecord[], ctx: FailureContext): FailureRecord {
  const first = records[0];
  const last = records.at(-1);
  if (!first || !last) throw new Error('a failure record needs at least one record');
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: ctx.mapping.functionArn,
      condition: ctx.condition,
      approximateInvokeCount: ctx.invokeCount,
    },
    responseContext:
      ctx.invokeCount > 0
        ? {
            statusCode: 200,
            executedVersion: '$LATEST',
            functionError: ctx.lastError?.startsWith('timeout') ? 'TimedOut' : 'Unhandled',
          }
        : undefined,
    version: '1.0',
    timestamp: ctx.at.toISOString(),
    KinesisBatchInfo: {
      shardId: ctx.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: first.arrival.toISOString(),
      approximateArrivalOfLastRecord: last.arrival.toISOString(),
      batchSize: records.length,
      streamArn: ctx.mapping.streamArn,
    },
    payload: JSON.stringify({ Records: records.map((r) => r.event) }),
  };
}

/** `aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>`, the key AWS writes to S3. */
export function failureObjectKey(mappingUuid: string, shardId: string, at: Date): string {
  const iso = at.toISOString();
  const [y, m, d] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
  const stamp = `${iso.slice(0, 10)}T${iso.slice(11, 19).replace(/:/g, '.')}`;
  return `aws/lambda/${mappingUuid}/${shardId}/${y}/${m}/${d}/${stamp}-${randomUUID()}`;
}
