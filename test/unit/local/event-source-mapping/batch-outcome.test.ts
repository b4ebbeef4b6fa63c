import { describe, expect, it } from 'vitest';
import {
  type InvokeResult,
  interpretResponse,
} from '../../../../local/event-source-mapping/batch-outcome.ts';

const BASE = 49590338271490256608559692538361571095921575989136588898n;
/** Ten realistic sequence numbers in stream order. */
const SEQS = Array.from({ length: 10 }, (_, i) => String(BASE + BigInt(i) * 1_000_000n));
const seq = (i: number): string => SEQS[i] ?? '';

const answered = (payload: string): InvokeResult => ({ functionError: undefined, payload });
const failures = (...ids: unknown[]) =>
  answered(JSON.stringify({ batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) }));

describe('interpretResponse', () => {
  it('a function error is a whole-batch function-error carrying the error type and payload', () => {
    const outcome = interpretResponse(
      { functionError: 'Unhandled', payload: '{"errorMessage":"boom"}' },
      SEQS,
      true,
    );
    expect(outcome).toEqual({ kind: 'function-error', error: 'Unhandled: {"errorMessage":"boom"}' });
  });

  it('a function error wins even when the payload lists failures and the feature is off', () => {
    expect(interpretResponse({ functionError: 'Unhandled', payload: '' }, SEQS, false).kind).toBe(
      'function-error',
    );
  });

  it('without ReportBatchItemFailures the response is ignored: success even with failures listed', () => {
    expect(interpretResponse(failures(seq(2)), SEQS, false)).toEqual({ kind: 'success' });
    expect(interpretResponse(answered('not json at all'), SEQS, false)).toEqual({ kind: 'success' });
    expect(interpretResponse(failures(''), SEQS, false)).toEqual({ kind: 'success' });
  });

  it.each([
    ['null', 'null'],
    ['an empty string', ''],
    ['whitespace', '  \n'],
    ['an empty object', '{}'],
    ['a null list', '{"batchItemFailures":null}'],
    ['an empty list', '{"batchItemFailures":[]}'],
    ['a top-level empty array', '[]'],
  ])('%s is a full success', (_label, payload) => {
    expect(interpretResponse(answered(payload), SEQS, true)).toEqual({ kind: 'success' });
  });

  it('a single listed id is a partial at that position', () => {
    expect(interpretResponse(failures(seq(4)), SEQS, true)).toEqual({
      kind: 'partial',
      sequenceNumber: seq(4),
      index: 4,
    });
  });

  it('several ids: partial at the LOWEST position in the batch, not the first listed', () => {
    expect(interpretResponse(failures(seq(7), seq(2), seq(9), seq(5)), SEQS, true)).toEqual({
      kind: 'partial',
      sequenceNumber: seq(2),
      index: 2,
    });
  });

  it('the lowest is by position in the batch, not by string order of the ids', () => {
    // shorter decimal string comes later in the batch: string comparison would pick it
    const batch = ['99999999999999999999', '100000000000000000000'];
    expect(interpretResponse(failures(batch[1], batch[0]), batch, true)).toMatchObject({
      kind: 'partial',
      index: 0,
      sequenceNumber: '99999999999999999999',
    });
  });

  it.each([
    ['an empty itemIdentifier', failures('')],
    ['a null itemIdentifier', failures(null)],
    ['a missing itemIdentifier', answered(JSON.stringify({ batchItemFailures: [{}] }))],
    ['a wrong key name', answered(JSON.stringify({ batchItemFailures: [{ itemIdentifer: seq(1) }] }))],
    ['a numeric itemIdentifier', failures(3)],
    ['an id not in the batch', failures(String(BASE + 7n))],
    ['a valid id followed by an unknown one', failures(seq(1), 'unknown')],
    ['a null entry', answered('{"batchItemFailures":[null]}')],
    [
      'batchItemFailures as an object',
      answered(JSON.stringify({ batchItemFailures: { itemIdentifier: seq(1) } })),
    ],
    ['batchItemFailures as a string', answered(JSON.stringify({ batchItemFailures: seq(1) }))],
    ['non-JSON', answered('{"batchItemFailures": [')],
  ])('%s fails the whole batch (function-error)', (_label, result) => {
    const outcome = interpretResponse(result, SEQS, true);
    expect(outcome.kind).toBe('function-error');
    if (outcome.kind === 'function-error') expect(outcome.error).toMatch(/^malformed batch response/);
  });
});
