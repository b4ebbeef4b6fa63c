import { ArchiveBatch, type ArchiveBusRecord } from '../contracts/archive.ts';
import { pythonIsoformat } from '../contracts/python-format.ts';
import { describeIssues, PlatformError } from '../errors/platform-error.ts';
import { replayBasisMismatchEvent } from './governance.ts';
import { type ArchivableRecord, intake, type SkipReason } from './intake.ts';
import {
  type ArchiveWriterPorts,
  type ArchiveWriterSettings,
  type CheckpointAdvance,
  type CounterDelta,
  type LedgerRow,
  type LedgerTransaction,
  ledgerKeyText,
  type Observation,
} from './ports.ts';
import { archiveRecord, layoutSegments } from './segment.ts';

/**
 * §2.1 one batch of bus records. Per record: skip (counted reason), or NEW / DUPLICATE / PAYLOAD_MISMATCH against
 * the ledger. Order of writes: the NEW records' segment objects, then the governance anomalies of mismatches, then
 * one ledger commit (rows, mismatch rows, counters, checkpoints). A ledger row therefore always points at an object
 * that exists, and a committed mismatch has its anomaly; a crash in between leaves an unreferenced segment only,
 * and the batch, delivered again, finds nothing committed. A segment write that fails commits nothing, counts
 * `write_error_total` and throws a retryable error, so the bus delivers the batch again.
 */

export type ArchiveOutcome = 'NEW' | 'DUPLICATE' | 'PAYLOAD_MISMATCH' | 'SKIPPED';

export interface RecordOutcome {
  index: number;
  outcome: ArchiveOutcome;
  /** NEW: this record's line; DUPLICATE / PAYLOAD_MISMATCH: the ledger's. */
  archive_ref?: string;
  reason?: SkipReason;
}

export interface BatchOutcome {
  records: RecordOutcome[];
  segments: string[];
}

/** The batch's segments could not be written: nothing was committed; the batch must be delivered again. */
export class ArchiveWriteError extends PlatformError<'ARCHIVE_WRITE_ERROR'> {
  constructor(cause: unknown) {
    super('ARCHIVE_WRITE_ERROR', `ARCHIVE_WRITE_ERROR: ${(cause as Error)?.message ?? String(cause)}`, {
      retryable: true,
      cause,
    });
  }
}

export class ArchiveBatchInvalid extends PlatformError<'ARCHIVE_BATCH_INVALID'> {
  constructor(detail: string) {
    super('ARCHIVE_BATCH_INVALID', undefined, { detail });
  }
}

interface Pending {
  entry: ArchivableRecord;
  outcome: 'NEW' | 'DUPLICATE' | 'PAYLOAD_MISMATCH';
  /** The ledger row (or the batch's earlier NEW) it was judged against. */
  against?: Known;
}

type Known = Pick<LedgerRow, 'payload_hash' | 'archive_ref'>;

/** Judges a record against what is known at its position: nothing (NEW), the same hash, or another one. */
function judge(entry: ArchivableRecord, known: Known | undefined): Pending {
  if (!known) return { entry, outcome: 'NEW' };
  return {
    entry,
    outcome: known.payload_hash === entry.payloadHash ? 'DUPLICATE' : 'PAYLOAD_MISMATCH',
    against: known,
  };
}

class Counters {
  private readonly deltas = new Map<string, CounterDelta>();
  add(streamId: string, topic: string, metric: CounterDelta['metric'], delta = 1): void {
    const k = `${streamId}\u0000${topic}\u0000${metric}`;
    const d = this.deltas.get(k);
    if (d) d.delta += delta;
    else this.deltas.set(k, { stream_id: streamId, topic, metric, delta });
  }
  list(): CounterDelta[] {
    return [...this.deltas.values()];
  }
}

function checkpoints(items: readonly { streamId: string; record: ArchiveBusRecord }[]): CheckpointAdvance[] {
  const highest = new Map<string, CheckpointAdvance>();
  for (const { streamId, record } of items) {
    const k = `${streamId}\u0000${record.topic}\u0000${record.partition}`;
    const current = highest.get(k);
    if (!current || BigInt(record.offset) > BigInt(current.next_offset))
      highest.set(k, {
        stream_id: streamId,
        topic: record.topic,
        partition_id: record.partition,
        offset_kind: record.offset_kind,
        next_offset: record.offset,
      });
  }
  return [...highest.values()];
}

const observation = (p: Pending): Observation => ({
  key: p.entry.key,
  outcome: p.outcome as Observation['outcome'],
  observed_payload_hash: p.entry.payloadHash,
  platform_run_id: p.entry.platformRunId,
  event_id: String(p.entry.envelope.event_id),
});

export async function archiveBatch(
  ports: ArchiveWriterPorts,
  settings: ArchiveWriterSettings,
  input: readonly ArchiveBusRecord[],
): Promise<BatchOutcome> {
  const parsed = ArchiveBatch.safeParse(input);
  if (!parsed.success) throw new ArchiveBatchInvalid(describeIssues(parsed.error.issues));
  const intakes = parsed.data.map((r, i) => intake(r, i, settings));
  const archivable = intakes.filter((e): e is ArchivableRecord => e.kind === 'archivable');

  // Judge against the ledger; a position repeated inside the batch is judged against its first copy.
  const existing = new Map(
    (await ports.ledger.find(archivable.map((e) => e.key))).map((row) => [ledgerKeyText(row), row]),
  );
  const now = ports.now();
  const firstCopies = new Map<string, ArchivableRecord>();
  for (const entry of archivable) {
    const k = ledgerKeyText(entry.key);
    if (!existing.has(k) && !firstCopies.has(k)) firstCopies.set(k, entry);
  }
  const fresh = [...firstCopies.values()];
  const archivedAt = pythonIsoformat(now);
  const layout = layoutSegments(
    fresh.map((entry) => archiveRecord(entry, archivedAt)),
    ports.segments.refOf,
  );
  const newRows: LedgerRow[] = fresh.map((entry, i) => ({
    ...entry.key,
    platform_run_id: entry.platformRunId,
    event_id: String(entry.envelope.event_id),
    event_type: String(entry.envelope.event_type),
    payload_hash: entry.payloadHash,
    archive_ref: layout.refs[i] as string,
  }));
  const batchRows = new Map(newRows.map((r) => [ledgerKeyText(r), r]));
  const pending = archivable.map((entry): Pending => {
    const k = ledgerKeyText(entry.key);
    return firstCopies.get(k) === entry
      ? { entry, outcome: 'NEW' }
      : judge(entry, existing.get(k) ?? batchRows.get(k));
  });

  // 1. The segment objects of the NEW records.
  try {
    await Promise.all(layout.objects.map((o) => ports.segments.putOnce(o.key, o.body)));
  } catch (error) {
    const counters = new Counters();
    for (const row of newRows) counters.add(row.stream_id, row.topic, 'write_error_total');
    await ports.ledger.addCounters(counters.list()).catch(() => undefined);
    throw new ArchiveWriteError(error);
  }

  // 2. The anomalies of the mismatches known now (write-once by event id: a replay emits nothing new).
  const emit = (list: readonly Pending[]) =>
    Promise.all(
      list.map((p) =>
        ports.governance.emit(
          replayBasisMismatchEvent({
            envelope: p.entry.envelope,
            platformRunId: p.entry.platformRunId,
            origin: p.entry.record,
            expectedPayloadHash: p.against?.payload_hash ?? '',
            observedPayloadHash: p.entry.payloadHash,
            archiveRef: p.against?.archive_ref || undefined,
            provenance: settings.provenance,
            at: now,
          }),
        ),
      ),
    );
  await emit(pending.filter((p) => p.outcome === 'PAYLOAD_MISMATCH'));

  // 3. One ledger commit. A NEW row another writer committed first is judged again against that row.
  const late = await ports.ledger.commit(async (tx) => {
    const lost = await commitNew(tx, newRows, now);
    const lateMismatches: Pending[] = [];
    for (const p of pending) {
      const row = lost.get(ledgerKeyText(p.entry.key));
      if (!row) continue;
      const before = p.outcome;
      Object.assign(p, judge(p.entry, row));
      if (p.outcome === 'PAYLOAD_MISMATCH' && before !== 'PAYLOAD_MISMATCH') lateMismatches.push(p);
    }
    await tx.observe(pending.filter((p) => p.outcome !== 'NEW').map(observation), now);
    const counters = new Counters();
    for (const item of intakes) counters.add(item.streamId, item.record.topic, 'seen_total');
    for (const item of intakes)
      if (item.kind === 'skip') {
        counters.add(item.streamId, item.record.topic, 'skipped_total');
        counters.add(item.streamId, item.record.topic, `skipped.${item.reason}`);
      }
    const metricOf = {
      NEW: 'archived_total',
      DUPLICATE: 'duplicate_total',
      PAYLOAD_MISMATCH: 'payload_mismatch_total',
    } as const;
    for (const p of pending) counters.add(p.entry.streamId, p.entry.record.topic, metricOf[p.outcome]);
    await tx.addCounters(counters.list());
    await tx.advance(checkpoints(intakes), now);
    return lateMismatches;
  });
  await emit(late);

  const outcomes = new Map<number, RecordOutcome>();
  for (const item of intakes)
    if (item.kind === 'skip')
      outcomes.set(item.index, { index: item.index, outcome: 'SKIPPED', reason: item.reason });
  for (const p of pending) {
    const ref =
      p.outcome === 'NEW' ? batchRows.get(ledgerKeyText(p.entry.key))?.archive_ref : p.against?.archive_ref;
    outcomes.set(p.entry.index, {
      index: p.entry.index,
      outcome: p.outcome,
      ...(ref ? { archive_ref: ref } : {}),
    });
  }
  return {
    records: intakes.map((item) => outcomes.get(item.index) as RecordOutcome),
    segments: layout.objects.map((o) => o.key),
  };
}

/** Inserts the NEW rows; answers the rows that another writer had committed at the positions it lost. */
async function commitNew(
  tx: LedgerTransaction,
  rows: readonly LedgerRow[],
  at: Date,
): Promise<Map<string, LedgerRow>> {
  if (rows.length === 0) return new Map();
  const inserted = await tx.insertNew(rows, at);
  const lostKeys = rows.filter((r) => !inserted.has(ledgerKeyText(r)));
  if (lostKeys.length === 0) return new Map();
  return new Map((await tx.find(lostKeys)).map((row) => [ledgerKeyText(row), row]));
}
