import { createHash } from 'node:crypto';
import type { ServiceDefinition, StreamEventConfig } from '../service-definition.ts';

/** One Kinesis event-source mapping, normalised with AWS's defaults (aws-semantics.md §1.1). */
export interface MappingConfig {
  uuid: string;
  functionName: string;
  functionArn: string;
  functionTimeoutMs: number;
  streamName: string;
  streamArn: string;
  batchSize: number;
  batchWindowMs: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
  startingPositionTimestamp: number | undefined;
  enabled: boolean;
  /** -1: until the record expires. */
  maximumRetryAttempts: number;
  /** -1: the stream's retention applies. */
  maximumRecordAgeSeconds: number;
  bisectBatchOnFunctionError: boolean;
  parallelizationFactor: number;
  reportBatchItemFailures: boolean;
  onFailure: FailureDestination | undefined;
  /** Declared options the local cloud does not implement (reported in status, documented). */
  unsupported: string[];
}

export type FailureDestination =
  | { kind: 's3'; arn: string; bucket: string }
  /** SQS and SNS do not exist in the local cloud: such records are written to a local folder instead. */
  | { kind: 'local-file'; arn: string };

/** Lambda's synchronous payload cap, which also caps an ESM batch. */
export const MAX_BATCH_BYTES = 6 * 1024 * 1024;

/** A stable UUID per (function, stream, index), so checkpoints and failure keys survive restarts. */
export function mappingUuid(fn: string, stream: string, index: number): string {
  const h = createHash('sha256').update(`${fn}|${stream}|${index}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function destinationOf(config: StreamEventConfig): FailureDestination | undefined {
  const onFailure = config.destinations?.onFailure;
  if (onFailure === undefined) return undefined;
  const arn = typeof onFailure === 'string' ? onFailure : String(onFailure.arn);
  const s3 = /^arn:aws:s3:::([^/]+)$/.exec(arn);
  return s3?.[1] ? { kind: 's3', arn, bucket: s3[1] } : { kind: 'local-file', arn };
}

export function mappingsOf(service: ServiceDefinition): MappingConfig[] {
  return service.functions.flatMap((f) =>
    f.streamEvents.map((e, i): MappingConfig => {
      const unsupported: string[] = [];
      if (e.tumblingWindowInSeconds) unsupported.push('tumblingWindowInSeconds');
      return {
        uuid: mappingUuid(f.name, e.streamName, i),
        functionName: f.name,
        functionArn: `arn:aws:lambda:${service.region}:${service.accountId}:function:${f.name}`,
        functionTimeoutMs: f.timeoutSeconds * 1000,
        streamName: e.streamName,
        streamArn: `arn:aws:kinesis:${service.region}:${service.accountId}:stream/${e.streamName}`,
        batchSize: e.batchSize ?? 100,
        batchWindowMs: (e.batchWindow ?? 0) * 1000,
        startingPosition: e.startingPosition ?? 'TRIM_HORIZON',
        startingPositionTimestamp: e.startingPositionTimestamp,
        enabled: e.enabled !== false,
        maximumRetryAttempts: e.maximumRetryAttempts ?? -1,
        maximumRecordAgeSeconds: e.maximumRecordAgeInSeconds ?? -1,
        bisectBatchOnFunctionError: e.bisectBatchOnFunctionError ?? false,
        parallelizationFactor: e.parallelizationFactor ?? 1,
        reportBatchItemFailures: e.functionResponseType === 'ReportBatchItemFailures',
        onFailure: destinationOf(e),
        unsupported,
      };
    }),
  );
}
