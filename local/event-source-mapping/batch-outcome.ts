/** What one invocation of a batch came to, as Lambda's ESM reads the function's answer (aws-semantics.md §1.1). */

export type BatchOutcome =
  | { kind: 'success' }
  /** ReportBatchItemFailures: everything before `sequenceNumber` succeeded; retry from it. */
  | { kind: 'partial'; sequenceNumber: string; index: number }
  /** A thrown error, a timeout or a malformed partial response: the whole batch failed. */
  | { kind: 'function-error'; error: string }
  /** The invoke never reached the function (endpoint down, throttle): retried, not counted. */
  | { kind: 'invoke-failed'; error: string };

export interface InvokeResult {
  functionError: string | undefined;
  payload: string;
}

/**
 * Interprets a completed invocation. Without ReportBatchItemFailures the response is ignored. With it:
 * null/empty response or empty list → success; an entry whose itemIdentifier is empty, missing, or not in
 * the batch → whole-batch failure; otherwise the lowest failed sequence number of the batch.
 */
export function interpretResponse(
  result: InvokeResult,
  batchSequenceNumbers: string[],
  reportBatchItemFailures: boolean,
): BatchOutcome {
  if (result.functionError)
    return { kind: 'function-error', error: `${result.functionError}: ${result.payload.slice(0, 500)}` };
  if (!reportBatchItemFailures) return { kind: 'success' };
  let body: unknown;
  try {
    body = result.payload.trim() === '' ? null : JSON.parse(result.payload);
  } catch {
    return { kind: 'function-error', error: 'malformed batch response: not JSON' };
  }
  if (body === null || body === undefined || typeof body !== 'object') return { kind: 'success' };
  const failures = (body as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return { kind: 'success' };
  if (!Array.isArray(failures))
    return { kind: 'function-error', error: 'malformed batch response: batchItemFailures is not a list' };
  if (failures.length === 0) return { kind: 'success' };
  const position = new Map(batchSequenceNumbers.map((seq, i) => [seq, i]));
  let lowest = Number.POSITIVE_INFINITY;
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !position.has(id)) {
      return {
        kind: 'function-error',
        error: `malformed batch response: itemIdentifier ${JSON.stringify(id)} is not a sequence number of the batch`,
      };
    }
    lowest = Math.min(lowest, position.get(id) ?? lowest);
  }
  return { kind: 'partial', sequenceNumber: batchSequenceNumbers[lowest] ?? '', index: lowest };
}
