import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { consumerCheckpointScope } from '../contracts/identity.ts';
import { IDENTITY_GRAPH_STREAM_BASE } from '../contracts/identity-graph.ts';
import { ONLINE_FEATURES_STREAM_BASE } from '../contracts/online-features.ts';
import type { PostureStore, SignalSource } from '../degrade-ladder/ports.ts';
import { healthReading, type SignalReading } from '../degrade-ladder/signals.ts';
import { DEGRADE_LADDER_STREAM_BASE, GLOBAL_SCOPE } from '../degrade-ladder/tick.ts';
import { collectGraphStatus, type GraphHealthThresholds } from '../identity-graph/health.ts';
import { deriveFeatureHealth, type FeatureHealthThresholds } from '../online-features/observability.ts';
import { PROJECTOR_TOPICS, PROJECTORS } from '../run-lifecycle/rtdl-caught-up.ts';
import { postgresIdentityGraphStore } from './identity-graph-stores.ts';
import { postgresOnlineFeatureStore } from './online-features-stores.ts';
import type { PlatformDependencies } from './platform-dependencies.ts';
import type { Pool } from './postgres/pool.ts';
import { caughtUpPorts } from './rtdl-progress.ts';
import { s3Uri } from './s3-objects.ts';

/**
 * Where the Degrade Ladder's signals come from (downstream.md §3.1), all read live from Postgres so the ladder
 * works the same on AWS: the identity graph's and online features' health (their §2.2 / §2.3 rules over their
 * checkpoints and counters; nothing written yet is MISSING), the consumers' lag (IG's admitted events of the run
 * minus each projector's accounted ones, on the topics it consumes), the registry snapshot, the posture store (it
 * answers) and the outbox's publishing (no posture change left unpublished longer than the signal max age). A
 * signal whose read fails is ERROR with the reason.
 */

export interface DegradeSignalOptions {
  platformRunId: string;
  graphThresholds: GraphHealthThresholds;
  featureThresholds: FeatureHealthThresholds;
  maxConsumerLagEvents: number;
  maxUnpublishedSeconds: number;
  postureStore: PostureStore;
  /** The decision fabric's registry snapshot (its id), or undefined when there is none. */
  registrySnapshot: () => Promise<{ snapshot_id: string } | undefined>;
}

const latest = (values: readonly (string | null)[]) =>
  values.reduce<string | null>((a, b) => (b !== null && (a === null || b > a) ? b : a), null);

export function degradeSignalSource(deps: PlatformDependencies, options: DegradeSignalOptions): SignalSource {
  const run = options.platformRunId;
  const progress = caughtUpPorts(deps);
  const readers: Record<string, (pool: Pool, now: Date) => Promise<SignalReading>> = {
    async ieg_health(pool, now) {
      const store = postgresIdentityGraphStore(
        pool,
        consumerCheckpointScope(IDENTITY_GRAPH_STREAM_BASE, run),
      );
      if ((await store.checkpoints()).length === 0)
        return { name: 'ieg_health', state: 'MISSING', detail: 'NO_CHECKPOINT' };
      const status = await collectGraphStatus(store, { platformRunId: run }, options.graphThresholds, now);
      return healthReading('ieg_health', { health_state: status.health_state });
    },
    async ofp_health(pool, now) {
      const store = postgresOnlineFeatureStore(
        pool,
        consumerCheckpointScope(ONLINE_FEATURES_STREAM_BASE, run),
      );
      const checkpoints = await store.checkpoints();
      if (checkpoints.length === 0) return { name: 'ofp_health', state: 'MISSING', detail: 'NO_CHECKPOINT' };
      const watermark = latest(checkpoints.map((c) => c.watermark_ts_utc));
      const age = watermark === null ? null : (now.getTime() - new Date(watermark).getTime()) / 1000;
      const health = deriveFeatureHealth(await store.metrics(), age, options.featureThresholds);
      return healthReading('ofp_health', { health_state: health.state });
    },
    async eb_consumer_lag() {
      const admitted = await progress.admitted(run);
      let worst = { lag: 0, at: '' };
      for (const projector of PROJECTORS) {
        const topics = PROJECTOR_TOPICS[projector];
        const consumed = admitted.filter((a) => topics.includes(a.topic));
        const accounted = (await progress.progress(projector, run)).accounted;
        const byTopic = new Map<string, number>();
        for (const a of consumed) byTopic.set(a.topic, (byTopic.get(a.topic) ?? 0) + a.events);
        for (const [topic, events] of byTopic) {
          const lag = events - (accounted[topic] ?? 0);
          if (lag > worst.lag) worst = { lag, at: `${projector}:${topic}` };
        }
      }
      const detail = worst.lag === 0 ? 'lag 0' : `lag ${worst.lag} at ${worst.at}`;
      return {
        name: 'eb_consumer_lag',
        state: worst.lag <= options.maxConsumerLagEvents ? 'OK' : 'ERROR',
        detail,
      };
    },
    async registry_health() {
      const snapshot = await options.registrySnapshot();
      return snapshot
        ? { name: 'registry_health', state: 'OK', detail: `snapshot_id=${snapshot.snapshot_id}` }
        : { name: 'registry_health', state: 'MISSING', detail: 'NO_REGISTRY_SNAPSHOT' };
    },
    async posture_store_health() {
      await options.postureStore.current(GLOBAL_SCOPE);
      return { name: 'posture_store_health', state: 'OK' };
    },
    async control_publish_health(pool) {
      const res = await pool.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM dl_posture_outbox WHERE stream_id = $1 AND published_at_utc IS NULL
           AND created_at_utc < now() - make_interval(secs => $2)`,
        [consumerCheckpointScope(DEGRADE_LADDER_STREAM_BASE, run), options.maxUnpublishedSeconds],
      );
      const late = Number(res.rows[0]?.n ?? 0);
      return late === 0
        ? { name: 'control_publish_health', state: 'OK' }
        : { name: 'control_publish_health', state: 'ERROR', detail: `${late} posture change(s) unpublished` };
    },
  };
  return {
    async read(now) {
      const pool = await deps.pool();
      return Promise.all(
        Object.entries(readers).map(([name, read]) =>
          read(pool, now).catch(
            (error: unknown): SignalReading => ({
              name: name as SignalReading['name'],
              state: 'ERROR',
              detail: `READ_FAILED:${error instanceof Error ? error.message.slice(0, 200) : String(error)}`,
            }),
          ),
        ),
      );
    },
  };
}

/**
 * Publishes the outbox: the run's posture changes, in seq order, as `<run>/degrade_ladder/control_events.jsonl` (the
 * object replaced, one canonical event a line), then marks them published. When S3 fails the rows stay
 * unpublished, and `control_publish_health` turns ERROR once they are older than the signal max age.
 */
export async function publishPostureOutbox(pool: Pool, s3: S3Client, bucket: string, platformRunId: string) {
  const streamId = consumerCheckpointScope(DEGRADE_LADDER_STREAM_BASE, platformRunId);
  const rows = await pool.query<{ posture_seq: string; event_json: string; published: boolean }>(
    `SELECT posture_seq::text, event_json, published_at_utc IS NOT NULL AS published FROM dl_posture_outbox
     WHERE stream_id = $1 ORDER BY posture_seq`,
    [streamId],
  );
  if (rows.rows.every((r) => r.published)) return { published: 0, ref: null };
  const key = `${platformRunId}/degrade_ladder/control_events.jsonl`;
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: rows.rows.map((r) => `${r.event_json}\n`).join(''),
      ContentType: 'application/x-ndjson',
    }),
  );
  const marked = await pool.query(
    `UPDATE dl_posture_outbox SET published_at_utc = now()
     WHERE stream_id = $1 AND published_at_utc IS NULL AND posture_seq <= $2`,
    [streamId, rows.rows.at(-1)?.posture_seq],
  );
  return { published: marked.rowCount ?? 0, ref: s3Uri(bucket, key) };
}
