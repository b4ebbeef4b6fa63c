import { canonicalJson } from '../contracts/canonical-json.ts';
import type { Posture } from '../degrade-ladder/ladder.ts';
import { PostureSeqRegression, type PostureStore } from '../degrade-ladder/ports.ts';
import type { Pool } from './postgres/pool.ts';
import { inTransaction } from './postgres/projector-store.ts';
import { queryOrUnavailable } from './postgres/projector-tables.ts';

/**
 * The Degrade Ladder's posture store on Postgres (migration 0014), bound to one stream id (`dl.v0::<run>`): the
 * current posture per scope, replaced only by a higher seq (`ON CONFLICT … DO UPDATE … WHERE seq <`), and its change
 * event in the outbox, in one transaction.
 */
export function postgresPostureStore(pool: Pool, streamId: string): PostureStore {
  return {
    async current(scopeKey) {
      const res = await queryOrUnavailable<{ posture_json: string }>(
        pool,
        'SELECT posture_json FROM dl_current_posture WHERE stream_id = $1 AND scope_key = $2',
        [streamId, scopeKey],
      );
      const row = res.rows[0];
      return row ? (JSON.parse(row.posture_json) as Posture) : undefined;
    },
    async commit(scopeKey, posture, change) {
      await inTransaction(pool, async (client) => {
        const stored = await client.query(
          `INSERT INTO dl_current_posture (stream_id, scope_key, posture_seq, mode, decided_at_utc, posture_json)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (stream_id, scope_key) DO UPDATE SET posture_seq = EXCLUDED.posture_seq, mode = EXCLUDED.mode,
             decided_at_utc = EXCLUDED.decided_at_utc, posture_json = EXCLUDED.posture_json, updated_at_utc = now()
           WHERE dl_current_posture.posture_seq < EXCLUDED.posture_seq`,
          [
            streamId,
            scopeKey,
            posture.posture_seq,
            posture.mode,
            posture.decided_at_utc,
            canonicalJson(posture),
          ],
        );
        if (stored.rowCount !== 1) {
          const res = await client.query<{ posture_seq: string }>(
            'SELECT posture_seq::text FROM dl_current_posture WHERE stream_id = $1 AND scope_key = $2',
            [streamId, scopeKey],
          );
          throw new PostureSeqRegression(
            scopeKey,
            Number(res.rows[0]?.posture_seq ?? 0),
            posture.posture_seq,
          );
        }
        if (change)
          await client.query(
            `INSERT INTO dl_posture_outbox (stream_id, scope_key, posture_seq, event_type, transition, event_json)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
            [
              streamId,
              scopeKey,
              posture.posture_seq,
              change.event_type,
              change.transition,
              canonicalJson(change),
            ],
          );
      });
    },
  };
}
