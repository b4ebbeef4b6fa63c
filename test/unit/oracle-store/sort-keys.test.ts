import { describe, expect, it } from 'vitest';
import {
  keyExpression,
  MissingSortKey,
  sortKeysFor,
} from '../../../lib/oracle-store/stream-sort/sort-keys.ts';

describe('stream view sort keys (control-ingress.md §2.3)', () => {
  it('takes the configured keys, else the per-output override, else ts_utc, else session_start_utc', () => {
    expect(sortKeysFor('any', ['a', 'b'], ['b', 'a']).keys).toEqual(['b', 'a']);
    expect(sortKeysFor('s4_event_labels_6B', ['flow_id', 'event_seq', 'ts_utc']).keys).toEqual([
      'flow_id',
      'event_seq',
    ]);
    const traffic = sortKeysFor('s3_event_stream_with_fraud_6B', ['flow_id', 'ts_utc']);
    expect(traffic).toEqual({
      keys: ['ts_utc'],
      timeKey: 'ts_utc',
      recorded: ['ts_utc', 'filename', 'file_row_number'],
    });
    expect(sortKeysFor('sessions', ['session_start_utc']).timeKey).toBe('session_start_utc');
    // A first key that is not a time plans no time windows.
    expect(sortKeysFor('s4_flow_truth_labels_6B', ['flow_id']).timeKey).toBeUndefined();
  });

  it('refuses an output with no sort key, or a configured key it does not have', () => {
    expect(() => sortKeysFor('no_time', ['flow_id'])).toThrow(MissingSortKey);
    expect(() => sortKeysFor('no_time', ['flow_id'])).toThrow('MISSING_TS_UTC:no_time');
    expect(() => sortKeysFor('x', ['a'], ['b'])).toThrow('MISSING_SORT_KEY:x:b');
  });

  it('quotes identifiers and compares *_utc keys as TIMESTAMP', () => {
    expect(keyExpression('flow_id')).toBe('"flow_id"');
    expect(keyExpression('ts_utc')).toBe('CAST("ts_utc" AS TIMESTAMP)');
    expect(keyExpression('we"ird')).toBe('"we""ird"');
  });
});
