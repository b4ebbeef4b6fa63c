import { createHash } from 'node:crypto';
import { compareSequence, type StreamRecord } from './stream-record.ts';

/**
 * What of a shard is finished. Records complete out of read order when several lanes (parallelization
 * factor) run at once; the checkpoint is the watermark below which everything is finished, plus each
 * lane's last finished record above it, so a restart neither repeats nor skips a finished batch.
 */

export interface ShardCheckpoint {
  sequenceNumber: string | undefined;
  /** lane → last finished sequence number of that lane, beyond the watermark. */
  lanes: Record<string, string>;
}

interface Entry {
  sequenceNumber: string;
  lane: number;
  done: boolean;
}

export function laneOf(partitionKey: string, factor: number): number {
  if (factor <= 1) return 0;
  return createHash('md5').update(partitionKey).digest().readUInt32BE(0) % factor;
}

export class ShardProgress {
  private readonly entries: Entry[] = [];
  private head = 0;
  private watermark: string | undefined;
  private readonly laneLast = new Map<number, string>();
  private readonly bySequence = new Map<string, Entry>();

  constructor(
    private readonly factor: number,
    restored: ShardCheckpoint | undefined,
    restoredFactor: number | undefined,
  ) {
    this.watermark = restored?.sequenceNumber;
    if (restored && restoredFactor === factor) {
      for (const [lane, seq] of Object.entries(restored.lanes)) this.laneLast.set(Number(lane), seq);
    }
  }

  /** True when the record was finished before a restart (its lane already passed it). */
  alreadyDone(r: StreamRecord): boolean {
    if (this.watermark !== undefined && compareSequence(r.sequenceNumber, this.watermark) <= 0) return true;
    const last = this.laneLast.get(laneOf(r.partitionKey, this.factor));
    return last !== undefined && compareSequence(r.sequenceNumber, last) <= 0;
  }

  track(r: StreamRecord): number {
    const lane = laneOf(r.partitionKey, this.factor);
    const entry = { sequenceNumber: r.sequenceNumber, lane, done: false };
    this.entries.push(entry);
    this.bySequence.set(r.sequenceNumber, entry);
    return lane;
  }

  complete(records: StreamRecord[]): void {
    for (const r of records) {
      const entry = this.bySequence.get(r.sequenceNumber);
      if (!entry || entry.done) continue;
      entry.done = true;
      this.bySequence.delete(r.sequenceNumber);
      const last = this.laneLast.get(entry.lane);
      if (last === undefined || compareSequence(entry.sequenceNumber, last) > 0)
        this.laneLast.set(entry.lane, entry.sequenceNumber);
    }
    while (this.head < this.entries.length && this.entries[this.head]?.done) {
      this.watermark = this.entries[this.head]?.sequenceNumber;
      this.head++;
    }
    if (this.head > 4096) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }

  checkpoint(): ShardCheckpoint {
    const lanes: Record<string, string> = {};
    for (const [lane, seq] of this.laneLast) {
      if (this.watermark === undefined || compareSequence(seq, this.watermark) > 0) lanes[String(lane)] = seq;
    }
    return { sequenceNumber: this.watermark, lanes };
  }

  /** The last sequence number read (to renew an expired iterator). */
  lastRead(): string | undefined {
    return this.entries.at(-1)?.sequenceNumber ?? this.watermark;
  }
}
