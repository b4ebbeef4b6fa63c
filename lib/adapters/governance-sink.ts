import type { S3Client } from '@aws-sdk/client-s3';
import { canonicalJson } from '../contracts/canonical-json.ts';
import { appendLineOnce, putObjectOnce, S3AppendConflict } from './s3-objects.ts';

/** What the governance writer needs of an event of any component (World Streamer, Archive Writer, …). */
export interface GovernanceEventLike {
  event_id: string;
  pins: { platform_run_id: string };
}

/**
 * Governance events, write-once at `<platform_run_id>/obs/governance/events/{event_id}.json` in the platform
 * bucket (the store root is `s3://fraud-platform`, so the run prefix is the platform run id), then appended to
 * `<platform_run_id>/obs/governance/events.jsonl` unless it is there already. The per-event object is the truth:
 * an append that keeps losing to other writers (S3_APPEND_CONFLICT) or fails is logged and ignored (downstream.md).
 */
export function s3GovernanceEventSink<E extends GovernanceEventLike>(
  s3: S3Client,
  platformBucket: string,
  warn: (line: string) => void = (line) => console.warn(line),
): { emit(event: E): Promise<boolean> } {
  return {
    async emit(event) {
      const prefix = `${event.pins.platform_run_id}/obs/governance`;
      const line = canonicalJson(event);
      const created = await putObjectOnce(
        s3,
        platformBucket,
        `${prefix}/events/${event.event_id}.json`,
        `${line}\n`,
      );
      try {
        await appendLineOnce(
          s3,
          platformBucket,
          `${prefix}/events.jsonl`,
          line,
          `"event_id":"${event.event_id}"`,
        );
      } catch (error) {
        // The per-event object is the truth: an emitter never fails on the log (downstream.md).
        const code = error instanceof S3AppendConflict ? 'S3_APPEND_CONFLICT' : 'S3_APPEND_FAILED';
        warn(`${code} ${prefix}/events.jsonl event_id=${event.event_id}: ${(error as Error).message}`);
      }
      return created;
    },
  };
}
