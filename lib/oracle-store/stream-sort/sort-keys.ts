import { PlatformError } from '../../errors/platform-error.ts';
/** Sort keys of a stream view (control-ingress.md §2.3): overrides, else ts_utc, else session_start_utc. */

export const KEY_OVERRIDES: Record<string, string[]> = {
  s4_event_labels_6B: ['flow_id', 'event_seq'],
  s4_flow_truth_labels_6B: ['flow_id'],
  s4_flow_bank_view_6B: ['flow_id'],
  s1_session_index_6B: ['session_start_utc'],
};

export class MissingSortKey extends PlatformError<'MISSING_TS_UTC'> {
  constructor(message: string) {
    super('MISSING_TS_UTC', message);
  }
}

export interface SortKeys {
  /** Declared keys, in order. */
  keys: string[];
  /** The time key windows are planned on, when the first key is a `*_utc` time. */
  timeKey: string | undefined;
  /** What the receipt records: keys + filename + file_row_number. */
  recorded: string[];
}

export function sortKeysFor(outputId: string, columns: string[], configured?: string[]): SortKeys {
  const keys =
    configured && configured.length > 0
      ? configured
      : (KEY_OVERRIDES[outputId] ??
        (columns.includes('ts_utc')
          ? ['ts_utc']
          : columns.includes('session_start_utc')
            ? ['session_start_utc']
            : undefined));
  if (!keys) throw new MissingSortKey(`MISSING_TS_UTC:${outputId}`);
  for (const k of keys)
    if (!columns.includes(k)) throw new MissingSortKey(`MISSING_SORT_KEY:${outputId}:${k}`);
  const first = keys[0];
  return {
    keys,
    timeKey: first?.endsWith('_utc') ? first : undefined,
    recorded: [...keys, 'filename', 'file_row_number'],
  };
}

/** SQL for one key: `*_utc` keys compare as TIMESTAMP. Identifiers are quoted. */
export function keyExpression(key: string): string {
  const id = `"${key.replace(/"/g, '""')}"`;
  return key.endsWith('_utc') ? `CAST(${id} AS TIMESTAMP)` : id;
}
