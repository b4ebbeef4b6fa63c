import { GetObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { consumerCheckpointScope } from '../../../lib/contracts/identity.ts';
import { DEGRADE_LADDER_STREAM_BASE } from '../../../lib/degrade-ladder/tick.ts';
import { db, invoke, onTheBus, RUN, s3 } from '../rtdl/projector-bus.ts';

/**
 * The degrade-ladder function on the local cloud (its schedule also ticks every minute there): invoked now, it ticks
 * for the active run — a fresh run's signals are all bootstrap-pending, so NORMAL — commits the posture with a rising
 * seq, and publishes the INITIAL change to `<run>/degrade_ladder/control_events.jsonl`.
 */

onTheBus();
/** The local cloud's platform bucket. */
const PLATFORM_BUCKET = 'fraud-platform';

interface Summary {
  platform_run_id: string;
  mode: string | null;
  posture_seq: number | null;
  transition: string;
  health: string | null;
  published: number;
}

describe('degrade-ladder on the local cloud', () => {
  it('a tick for the active run commits a posture with rising seq and publishes its INITIAL change', async () => {
    const first = await invoke<Summary>('degrade-ladder', {});
    expect(first.platform_run_id).toBe(RUN);
    const second = await invoke<Summary>('degrade-ladder', {});
    expect(second).toMatchObject({
      platform_run_id: RUN,
      transition: 'NONE',
      mode: 'NORMAL',
      health: 'GREEN',
    });
    const stored = await db.query<{ posture_seq: string; mode: string }>(
      'SELECT posture_seq::text, mode FROM dl_current_posture WHERE stream_id = $1',
      [consumerCheckpointScope(DEGRADE_LADDER_STREAM_BASE, RUN)],
    );
    expect(stored.rows).toEqual([{ posture_seq: String(second.posture_seq), mode: 'NORMAL' }]);
    expect(second.posture_seq).toBeGreaterThanOrEqual(2);
    const object = await s3.send(
      new GetObjectCommand({ Bucket: PLATFORM_BUCKET, Key: `${RUN}/degrade_ladder/control_events.jsonl` }),
    );
    const events = (await object.Body?.transformToString())
      ?.trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { event_type: string; transition: string; posture: { posture_seq: number } },
      );
    expect(events?.map((e) => [e.event_type, e.transition, e.posture.posture_seq])).toEqual([
      ['dl.posture_changed.v1', 'INITIAL', 1],
    ]);
  });
});
