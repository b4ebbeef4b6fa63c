import { canonicalJson, parseJsonLossless } from '../contracts/canonical-json.ts';
import type { CanonicalEnvelope } from '../contracts/envelope.ts';
import type { DecisionLedger, LedgerClaim } from '../decision-fabric/ports.ts';
import type { Pool } from './postgres/pool.ts';
import { addToCounters, inTransaction } from './postgres/projector-store.ts';

/**
 * The Decision Fabric's replay ledger on Postgres (migration 0016): one decision per source event of a run. A claim
 * inserts every new decision of a batch in one statement (`ON CONFLICT DO NOTHING RETURNING`), then reads the rows
 * that were there, by source event: the same decision id and payload hash ⇒ REPLAY_MATCH when published, PENDING when
 * not (its stored envelopes are published again); another hash, or another decision id for the same source event (a
 * redelivery at another offset, a retry under another bundle outcome) ⇒ MISMATCH, recorded in
 * `df_payload_mismatches`; the stored decision stands, and is published if it was not yet.
 */

interface StoredRow {
  decision_id: string;
  payload_hash: string;
  envelopes_json: string;
  published: boolean;
}

const envelopesOf = (json: string) => parseJsonLossless(json) as CanonicalEnvelope[];

export function postgresDecisionLedger(pool: Pool, streamId: string): DecisionLedger {
  return {
    claim: (entries) =>
      inTransaction(pool, async (client) => {
        if (entries.length === 0) return [];
        const inserted = await client.query<{ decision_id: string }>(
          `INSERT INTO df_decisions (decision_id, platform_run_id, scenario_run_id, source_event_id, flow_id,
             action_kind, context_status, reason_codes, payload_hash, envelopes_json, bus_arrival_ms)
           SELECT d, r, s, e, f, a, c, string_to_array(rc, ','), h, j, b
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::text[], $9::text[], $10::text[], $11::bigint[]) AS t(d, r, s, e, f, a, c, rc, h, j, b)
           ON CONFLICT DO NOTHING
           RETURNING decision_id`,
          [
            entries.map((e) => e.decision_id),
            entries.map((e) => e.platform_run_id),
            entries.map((e) => e.scenario_run_id),
            entries.map((e) => e.source_event_id),
            entries.map((e) => e.flow_id),
            entries.map((e) => e.action_kind),
            entries.map((e) => e.context_status),
            entries.map((e) => e.reason_codes.join(',')),
            entries.map((e) => e.payload_hash),
            entries.map((e) => canonicalJson(e.envelopes)),
            entries.map((e) => String(e.bus_arrival_ms)),
          ],
        );
        const fresh = new Set(inserted.rows.map((r) => r.decision_id));
        const others = entries.filter((e) => !fresh.has(e.decision_id));
        // What is stored for the others: by decision id, or by source event (a decision made before at another
        // offset or under another bundle outcome: the stored one stands).
        const stored = new Map<string, StoredRow>();
        if (others.length > 0) {
          const res = await client.query<StoredRow & { platform_run_id: string; source_event_id: string }>(
            `SELECT d.decision_id, d.payload_hash, d.envelopes_json, d.published, d.platform_run_id, d.source_event_id
             FROM unnest($1::text[], $2::text[]) AS k(run, source)
             JOIN df_decisions d ON d.platform_run_id = k.run AND d.source_event_id = k.source
             FOR UPDATE OF d`,
            [others.map((e) => e.platform_run_id), others.map((e) => e.source_event_id)],
          );
          for (const row of res.rows) stored.set(`${row.platform_run_id}|${row.source_event_id}`, row);
        }
        const mismatches: { id: string; incoming: string; stored: string }[] = [];
        const replays: string[] = [];
        const claims = entries.map((entry): LedgerClaim => {
          if (fresh.has(entry.decision_id)) return { status: 'NEW' };
          const row = stored.get(`${entry.platform_run_id}|${entry.source_event_id}`);
          if (!row) throw new Error(`decision ${entry.decision_id} neither inserted nor stored`);
          replays.push(row.decision_id);
          if (row.decision_id !== entry.decision_id || row.payload_hash !== entry.payload_hash) {
            mismatches.push({ id: row.decision_id, incoming: entry.payload_hash, stored: row.payload_hash });
            return { status: 'MISMATCH', stored: envelopesOf(row.envelopes_json), published: row.published };
          }
          return row.published
            ? { status: 'REPLAY_MATCH' }
            : { status: 'PENDING', stored: envelopesOf(row.envelopes_json), published: false };
        });
        if (replays.length > 0)
          await client.query(
            `UPDATE df_decisions SET replay_count = replay_count + 1,
               mismatch_count = mismatch_count + CASE WHEN decision_id = ANY($2::text[]) THEN 1 ELSE 0 END
             WHERE decision_id = ANY($1::text[])`,
            [replays, mismatches.map((m) => m.id)],
          );
        if (mismatches.length > 0)
          await client.query(
            `INSERT INTO df_payload_mismatches (decision_id, incoming_payload_hash, stored_payload_hash)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
            [mismatches.map((m) => m.id), mismatches.map((m) => m.incoming), mismatches.map((m) => m.stored)],
          );
        return claims;
      }),
    async markPublished(results) {
      if (results.length === 0) return;
      await pool.query(
        `UPDATE df_decisions d SET published = true, publish_decisions = string_to_array(t.p, ','),
           admitted_at_ms = COALESCE(d.admitted_at_ms, t.a)
         FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(id, p, a)
         WHERE d.decision_id = t.id`,
        [
          results.map((r) => r.decision_id),
          results.map((r) => r.decisions.join(',')),
          results.map((r) => String(r.admitted_at_ms)),
        ],
      );
    },
    async addMetrics(counts) {
      const names = Object.keys(counts).sort();
      if (names.length === 0) return;
      await addToCounters(
        pool,
        names.map((name) => ({
          table: 'df_metrics',
          keyColumns: ['stream_id', 'metric_name'],
          valueColumn: 'value',
          key: [streamId, name],
          by: counts[name] ?? 0,
        })),
      );
    },
  };
}
