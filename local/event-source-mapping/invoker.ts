import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import { type BatchOutcome, interpretResponse } from './batch-outcome.ts';
import type { MappingConfig } from './mapping-config.ts';
import type { StreamRecord } from './stream-record.ts';

/** Invokes the mapping's function synchronously with a Kinesis event, bounded by the function's timeout. */
export async function invokeBatch(
  lambda: LambdaClient,
  mapping: MappingConfig,
  records: StreamRecord[],
): Promise<BatchOutcome> {
  const payload = `{"Records":[${records.map((r) => JSON.stringify(r.event)).join(',')}]}`;
  let out: InvokeCommandOutput;
  try {
    out = await lambda.send(
      new InvokeCommand({ FunctionName: mapping.functionName, Payload: Buffer.from(payload) }),
      {
        abortSignal: AbortSignal.timeout(mapping.functionTimeoutMs + 2000),
      },
    );
  } catch (error) {
    const e = error as Error;
    if (e.name === 'TimeoutError' || e.name === 'AbortError')
      return { kind: 'function-error', error: `timeout: no answer within ${mapping.functionTimeoutMs} ms` };
    return { kind: 'invoke-failed', error: `${e.name}: ${e.message}` };
  }
  const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
  if (out.FunctionError === 'ResourceNotFoundException')
    return { kind: 'invoke-failed', error: `function ${mapping.functionName} not found` };
  return interpretResponse(
    { functionError: out.FunctionError, payload: text },
    records.map((r) => r.sequenceNumber),
    mapping.reportBatchItemFailures,
  );
}
