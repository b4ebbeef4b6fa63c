import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { PARTITION_PROFILES } from '../contracts/partitioning.ts';
import { PlatformError } from '../errors/platform-error.ts';
import type { Actor } from '../ingestion-gate/admission.ts';
import { admitMany, drainOutbox, IngestionError, OUTBOX_ACTOR } from '../ingestion-gate/admission.ts';
import { healthMonitor } from '../ingestion-gate/health.ts';
import type { GatewayDependencies, LookupQuery } from '../ingestion-gate/http-api.ts';
import { payloadValidator } from '../ingestion-gate/payload-schemas.ts';
import type { AdmissionContext } from '../ingestion-gate/ports.ts';
import type { ProducerPolicy } from '../ingestion-gate/producer-policy.ts';
import { SlidingWindowLimiter } from '../ingestion-gate/rate-limit.ts';
import { IG_POLICY_CONTENT_DIGEST } from '../ingestion-gate/reference/policy-digest.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import { type IngestionGateEnvironment, producerPolicy } from '../runtime/ingestion-gate-config.ts';
import { apiKeysLoader } from './api-keys.ts';
import { kinesisEventBus, postgresAdmissionStore, s3EvidenceStore } from './ingestion-gate-stores.ts';
import type { PlatformDependencies } from './platform-dependencies.ts';
import { DatabaseUnavailable, isDatabaseUnavailable } from './postgres/pool.ts';

/** The evidence store could not take a write (S3 unreachable or failing); a retry can succeed. */
class EvidenceUnavailable extends PlatformError<'OBJECT_STORE_UNAVAILABLE'> {
  constructor(cause: unknown) {
    super(
      'OBJECT_STORE_UNAVAILABLE',
      `OBJECT_STORE_UNAVAILABLE: ${(cause as Error)?.message ?? String(cause)}`,
      {
        retryable: true,
        httpStatus: 503,
        detail: 'evidence could not be written; retry',
        cause,
      },
    );
  }
}

/** The Ingestion Gate wired to Postgres, Kinesis and S3 for one Lambda container. */

/** The streams IG routes to (the health probe describes each). */
export const ROUTED_STREAMS = [...new Set(Object.values(PARTITION_PROFILES).map((p) => p.stream))].filter(
  (s) => s !== 'fp.bus.traffic.v1' && s !== 'fp.bus.control.v1',
);

export function ingestionGate(
  env: PlatformEnvironment,
  ig: IngestionGateEnvironment,
  deps: PlatformDependencies,
  policy: ProducerPolicy = producerPolicy(),
) {
  const apiKeys = apiKeysLoader(
    deps.endpoints,
    ig.IG_API_KEYS,
    ig.IG_API_KEYS_SSM_PARAMETER || undefined,
    undefined,
  );

  const monitor = healthMonitor(
    {
      async database() {
        await (await deps.pool()).query('SELECT 1');
      },
      async undescribableStreams() {
        const bad: string[] = [];
        await Promise.all(
          ROUTED_STREAMS.map(async (topic) => {
            try {
              await deps.kinesis.send(
                new DescribeStreamSummaryCommand({ StreamName: `${env.BUS_STREAM_PREFIX}${topic}` }),
              );
            } catch {
              bad.push(topic);
            }
          }),
        );
        return bad;
      },
      async stuckOutboxRows(threshold) {
        const res = await (await deps.pool()).query<{ n: string }>(
          `SELECT count(*) AS n FROM ig_admissions WHERE state = 'PUBLISH_PENDING' AND publish_attempts >= $1`,
          [threshold],
        );
        return Number(res.rows[0]?.n ?? 0);
      },
    },
    {
      intervalMs: ig.IG_HEALTH_PROBE_INTERVAL_SECONDS * 1000,
      busFailureThreshold: ig.IG_BUS_FAILURE_THRESHOLD,
    },
  );

  const bus = kinesisEventBus(deps.kinesis, env.BUS_STREAM_PREFIX);
  let lastDrainAt = 0;
  const evidence = s3EvidenceStore(deps.s3, env.PLATFORM_BUCKET);
  const context = async (): Promise<AdmissionContext> => ({
    store: postgresAdmissionStore(await deps.pool()),
    bus: {
      async publish(stream, records) {
        const out = await bus.publish(stream, records);
        monitor.recordPublish(out.every((r) => !('error' in r)));
        return out;
      },
      locate: (stream, records) => bus.locate(stream, records),
    },
    evidence: {
      refOf: evidence.refOf,
      async putOnce(key, body) {
        try {
          const out = await evidence.putOnce(key, body);
          monitor.recordStoreWrite(true);
          return out;
        } catch (error) {
          // Only the store's own failures (5xx, unreachable) count against its health, never a refused request.
          const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
          if (status === undefined || status >= 500) monitor.recordStoreWrite(false);
          throw new EvidenceUnavailable(error);
        }
      },
    },
    payloads: payloadValidator,
    health: () => monitor.report(),
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    policy: {
      revision: ig.IG_POLICY_REVISION,
      contentDigest: IG_POLICY_CONTENT_DIGEST,
      serviceReleaseId: ig.IG_SERVICE_RELEASE_ID,
      environment: ig.IG_ENVIRONMENT,
      claimMs: ig.IG_CLAIM_MS,
      inFlightWaitMs: ig.IG_IN_FLIGHT_WAIT_MS,
      denyOnAmber: ig.IG_DENY_ON_AMBER,
    },
  });

  const gateway: GatewayDependencies = {
    apiKeys,
    producerPolicy: policy,
    limiter: new SlidingWindowLimiter(ig.IG_PUSH_RATE_LIMIT_PER_MINUTE),
    maxRequestBytes: ig.IG_MAX_REQUEST_BYTES,
    maxBatchBytes: ig.IG_MAX_BATCH_BYTES,
    maxBatchItems: ig.IG_MAX_BATCH_ITEMS,
    async admit(bodies: readonly unknown[], actor: Actor) {
      const ctx = await context();
      const out = await unavailableAsUnhealthy(() => admitMany(bodies, actor, ctx));
      // The outbox also drains behind successful publishes (at most every 5 s per container), so it empties
      // as soon as the bus is back even where no schedule runs (the local cloud).
      const published = out.some((r) => !(r instanceof IngestionError) && r?.decision === 'ADMIT');
      if (published && Date.now() - lastDrainAt > 5_000) {
        lastDrainAt = Date.now();
        // The pushes are answered whatever the drain meets; what it could not finish stays in the outbox.
        await drainOutbox(ctx, OUTBOX_ACTOR, 100).catch(() => undefined);
      }
      return out;
    },
    health: () => monitor.report(),
    lookup: (q: LookupQuery) => unavailableAsUnhealthy(() => lookup(q)),
  };

  /**
   * A database or evidence store the gate could not reach answers 503 IG_UNHEALTHY (the producer retries), never
   * a 500 with the driver's message; a database failure makes health look again at once.
   */
  async function unavailableAsUnhealthy<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof DatabaseUnavailable || isDatabaseUnavailable(error)) {
        monitor.recordDatabaseUnavailable();
        throw new IngestionError('IG_UNHEALTHY', 'OPS_DB_UNHEALTHY: the admission database is unavailable');
      }
      if (error instanceof EvidenceUnavailable)
        throw new IngestionError('IG_UNHEALTHY', 'OBJECT_STORE_UNHEALTHY: evidence could not be written');
      throw error;
    }
  }

  async function lookup(q: LookupQuery) {
    {
      const pool = await deps.pool();
      // §5.8: by event_id or dedupe_key the earliest receipt, by receipt_id the latest. A dedupe_key names its
      // admission row, whose event_id leads to the receipts (migration 0006 keeps no receipt index by dedupe_key).
      const columns = `r.receipt_id, r.event_id, r.event_type, r.decision, r.receipt_ref, r.eb_ref,
        r.reason_codes_json AS reason_codes, r.platform_run_id`;
      const res = q.receipt_id
        ? await pool.query(
            `SELECT ${columns} FROM ig_receipts r WHERE r.receipt_id = $1 ORDER BY r.created_at_utc DESC LIMIT 1`,
            [q.receipt_id],
          )
        : q.event_id
          ? await pool.query(
              `SELECT ${columns} FROM ig_receipts r WHERE r.event_id = $1 ORDER BY r.created_at_utc ASC LIMIT 1`,
              [q.event_id],
            )
          : await pool.query(
              `SELECT ${columns} FROM ig_admissions a
               JOIN ig_receipts r ON r.event_id = a.event_id AND r.dedupe_key = a.dedupe_key
               WHERE a.dedupe_key = $1 ORDER BY r.created_at_utc ASC LIMIT 1`,
              [q.dedupe_key],
            );
      return res.rows[0];
    }
  }
  return { gateway, context, monitor };
}
