import pg from 'pg';
import type { ShardCheckpoint } from './shard-progress.ts';

/** Checkpoints per (mapping, shard) in the local cloud's own Postgres database. */

export interface StoredCheckpoint {
  checkpoint: ShardCheckpoint;
  parallelizationFactor: number | undefined;
  /** When a LATEST mapping first started: a restart resumes from there, not from a new LATEST. */
  latestStartedAt: Date | undefined;
}

export interface CheckpointStore {
  read(mappingUuid: string, shardId: string): Promise<StoredCheckpoint | undefined>;
  write(mappingUuid: string, shardId: string, c: ShardCheckpoint, factor: number): Promise<void>;
  markLatestStart(mappingUuid: string, shardId: string, at: Date): Promise<void>;
  close(): Promise<void>;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS esm_checkpoints (
  mapping_uuid text NOT NULL,
  shard_id text NOT NULL,
  sequence_number text,
  lane_sequence_numbers jsonb NOT NULL DEFAULT '{}'::jsonb,
  parallelization_factor integer,
  latest_started_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mapping_uuid, shard_id)
)`;

export async function postgresCheckpointStore(connectionString: string): Promise<CheckpointStore> {
  const pool = new pg.Pool({ connectionString, max: 4, connectionTimeoutMillis: 3000 });
  pool.on('error', () => undefined);
  await pool.query(SCHEMA);
  return {
    async read(mappingUuid, shardId) {
      const res = await pool.query<{
        sequence_number: string | null;
        lane_sequence_numbers: Record<string, string>;
        parallelization_factor: number | null;
        latest_started_at: Date | null;
      }>(
        'SELECT sequence_number, lane_sequence_numbers, parallelization_factor, latest_started_at FROM esm_checkpoints WHERE mapping_uuid = $1 AND shard_id = $2',
        [mappingUuid, shardId],
      );
      const row = res.rows[0];
      if (!row) return undefined;
      return {
        checkpoint: { sequenceNumber: row.sequence_number ?? undefined, lanes: row.lane_sequence_numbers },
        parallelizationFactor: row.parallelization_factor ?? undefined,
        latestStartedAt: row.latest_started_at ?? undefined,
      };
    },
    async write(mappingUuid, shardId, c, factor) {
      await pool.query(
        `INSERT INTO esm_checkpoints (mapping_uuid, shard_id, sequence_number, lane_sequence_numbers, parallelization_factor, updated_at)
         VALUES ($1, $2, $3, $4, $5, now())
         ON CONFLICT (mapping_uuid, shard_id) DO UPDATE SET sequence_number = EXCLUDED.sequence_number,
           lane_sequence_numbers = EXCLUDED.lane_sequence_numbers, parallelization_factor = EXCLUDED.parallelization_factor, updated_at = now()`,
        [mappingUuid, shardId, c.sequenceNumber ?? null, JSON.stringify(c.lanes), factor],
      );
    },
    async markLatestStart(mappingUuid, shardId, at) {
      await pool.query(
        `INSERT INTO esm_checkpoints (mapping_uuid, shard_id, latest_started_at) VALUES ($1, $2, $3)
         ON CONFLICT (mapping_uuid, shard_id) DO UPDATE SET latest_started_at = COALESCE(esm_checkpoints.latest_started_at, EXCLUDED.latest_started_at)`,
        [mappingUuid, shardId, at],
      );
    },
    close: () => pool.end(),
  };
}
