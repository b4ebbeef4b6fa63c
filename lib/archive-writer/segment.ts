import type { ArchiveRecord } from '../contracts/archive.ts';
import { canonicalJson } from '../contracts/canonical-json.ts';
import { sha256Hex } from '../contracts/identity.ts';
import type { ArchivableRecord } from './intake.ts';

/**
 * The archive records of one batch and their segment objects (README deliberate difference: segments per batch,
 * not one object per event). Records of one run share one object, `<run>/archive/segments/<sha256 of the
 * body>.jsonl`, one canonical JSON a line; each record's `archive_ref` names its line's bytes
 * (`s3://bucket/key#bytes=START-END`, inclusive, an HTTP Range), as the gate's receipt segments do. Content
 * addressing makes the put write-once and idempotent: the same body is the same key.
 */

const pickString = (v: unknown): string => (typeof v === 'string' ? v : String(v));

/** §2.1 the archive record of an archivable envelope at its origin. */
export function archiveRecord(entry: ArchivableRecord, archivedAtUtc: string): ArchiveRecord {
  const e = entry.envelope;
  const { topic, partition, offset, offset_kind } = entry.record;
  return {
    archived_at_utc: archivedAtUtc,
    platform_run_id: entry.platformRunId,
    scenario_run_id: pickString(e.scenario_run_id),
    manifest_fingerprint: pickString(e.manifest_fingerprint),
    parameter_hash: pickString(e.parameter_hash),
    scenario_id: pickString(e.scenario_id),
    seed: e.seed === undefined || e.seed === null || e.seed === '' ? null : pickString(e.seed),
    event_id: pickString(e.event_id),
    event_type: pickString(e.event_type),
    ts_utc: pickString(e.ts_utc),
    payload_hash: entry.payloadHash,
    origin_offset: { topic, partition, offset, offset_kind },
    envelope: e,
  };
}

export interface SegmentObject {
  key: string;
  body: string;
}

export interface SegmentLayout {
  objects: SegmentObject[];
  /** The archive_ref of each line, in the order given. */
  refs: string[];
}

/** Lays archive records out in one segment per run; `refOf` turns a key into its `s3://` ref. */
export function layoutSegments(
  records: readonly ArchiveRecord[],
  refOf: (key: string) => string,
): SegmentLayout {
  const refs = new Array<string>(records.length);
  const objects: SegmentObject[] = [];
  const byRun = new Map<string, number[]>();
  records.forEach((r, i) => {
    const group = byRun.get(r.platform_run_id);
    if (group) group.push(i);
    else byRun.set(r.platform_run_id, [i]);
  });
  for (const [run, indexes] of byRun) {
    const lines = indexes.map((i) => canonicalJson(records[i]));
    const body = `${lines.join('\n')}\n`;
    const key = `${run}/archive/segments/${sha256Hex(body)}.jsonl`;
    objects.push({ key, body });
    let offset = 0;
    indexes.forEach((recordIndex, n) => {
      const length = Buffer.byteLength(lines[n] as string, 'utf8');
      refs[recordIndex] = `${refOf(key)}#bytes=${offset}-${offset + length - 1}`;
      offset += length + 1;
    });
  }
  return { objects, refs };
}
