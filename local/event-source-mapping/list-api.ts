import type { MappingConfig } from './mapping-config.ts';

/**
 * The Lambda `ListEventSourceMappings` REST call (`GET /2015-03-31/event-source-mappings/?FunctionName=…`),
 * answered from the poller's mappings in AWS's JSON shape, so `@aws-sdk/client-lambda` pointed at the poller
 * works as against AWS (the run lifecycle's P2 gate uses it).
 */
export function listEventSourceMappings(
  mappings: readonly MappingConfig[],
  url: string,
): unknown | undefined {
  const parsed = new URL(url, 'http://localhost');
  if (!/^\/2015-03-31\/event-source-mappings\/?$/.test(parsed.pathname)) return undefined;
  const fn = parsed.searchParams.get('FunctionName');
  const stream = parsed.searchParams.get('EventSourceArn');
  const selected = mappings.filter(
    (m) =>
      (!fn || m.functionName === fn || m.functionArn === fn || m.functionArn.endsWith(`:${fn}`)) &&
      (!stream || m.streamArn === stream),
  );
  return {
    EventSourceMappings: selected.map((m) => ({
      UUID: m.uuid,
      FunctionArn: m.functionArn,
      EventSourceArn: m.streamArn,
      State: m.enabled ? 'Enabled' : 'Disabled',
      BatchSize: m.batchSize,
      MaximumBatchingWindowInSeconds: Math.round(m.batchWindowMs / 1000),
      StartingPosition: m.startingPosition,
      MaximumRetryAttempts: m.maximumRetryAttempts,
      MaximumRecordAgeInSeconds: m.maximumRecordAgeSeconds,
      BisectBatchOnFunctionError: m.bisectBatchOnFunctionError,
      ParallelizationFactor: m.parallelizationFactor,
      FunctionResponseTypes: m.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
    })),
  };
}
