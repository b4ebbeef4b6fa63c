import type { S3Client } from '@aws-sdk/client-s3';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { PlatformRunId, RunPinRecord } from '../contracts/platform-run.ts';
import type { RunObjectStore, RunRegistry } from '../run-lifecycle/run-pin.ts';
import type { Pool } from './postgres/pool.ts';
import { getObjectText, putObjectOnce, s3Uri } from './s3-objects.ts';

export function postgresRunRegistry(pool: Pool): RunRegistry {
  return {
    async createRun(record: RunPinRecord) {
      const res = await pool.query(
        `INSERT INTO platform_runs (platform_run_id, pinned_at_utc, pinned_by, stream_settings) VALUES ($1, $2, $3, $4)
         ON CONFLICT (platform_run_id) DO NOTHING RETURNING platform_run_id`,
        [record.platform_run_id, record.pinned_at_utc, record.pinned_by, JSON.stringify(record.stream ?? {})],
      );
      return res.rowCount === 1;
    },
    async setActiveRun(id: PlatformRunId) {
      await pool.query(
        `INSERT INTO active_run (singleton, platform_run_id, updated_at_utc) VALUES (true, $1, now())
         ON CONFLICT (singleton) DO UPDATE SET platform_run_id = EXCLUDED.platform_run_id, updated_at_utc = now()`,
        [id],
      );
    },
    async activeRun() {
      const res = await pool.query<{ platform_run_id: string }>(
        'SELECT platform_run_id FROM active_run WHERE singleton',
      );
      return res.rows[0]?.platform_run_id;
    },
  };
}

/** The S3 key of the active-run pointer, the object-store twin of the reference's runs/fraud-platform/ACTIVE_RUN_ID. */
export const ACTIVE_RUN_KEY = 'ACTIVE_RUN_ID';

export function s3RunObjectStore(s3: S3Client, bucket: string): RunObjectStore {
  return {
    async writePinRecord(record) {
      const key = `${record.platform_run_id}/run_pin.json`;
      const created = await putObjectOnce(s3, bucket, key, `${JSON.stringify(record)}\n`);
      return { created, ref: s3Uri(bucket, key) };
    },
    async writeActiveRunPointer(id) {
      // A pointer, overwritten on purpose at every pin; each run's own record is write-once.
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: ACTIVE_RUN_KEY,
          Body: `${id}\n`,
          ContentType: 'text/plain',
        }),
      );
      return s3Uri(bucket, ACTIVE_RUN_KEY);
    },
    async readActiveRunPointer() {
      return (await getObjectText(s3, bucket, ACTIVE_RUN_KEY))?.trim();
    },
  };
}
