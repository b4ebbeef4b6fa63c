import type { Actor } from '../../../lib/ingestion-gate/admission.ts';
import type {
  AdmissionContext,
  AdmissionRow,
  AdmissionStore,
  HealthReport,
  QuarantineIndexEntry,
  ReceiptIndexEntry,
} from '../../../lib/ingestion-gate/ports.ts';

/** In-memory ports with the semantics the Postgres, Kinesis and S3 adapters give. */
export function fakes(
  options: {
    failPublishes?: number;
    failRecord?: (data: string) => boolean;
    failCommits?: number;
    /** Publishes whose records are stored but whose answer is lost (a timeout after Kinesis took them). */
    loseAnswers?: number;
  } = {},
) {
  let lostAnswers = options.loseAnswers ?? 0;
  let commitFailures = options.failCommits ?? 0;
  const rows = new Map<string, AdmissionRow & { claimUntil: number }>();
  const receipts: ReceiptIndexEntry[] = [];
  const quarantines: QuarantineIndexEntry[] = [];
  const objects = new Map<string, string>();
  const records: Array<{ stream: string; partitionKey: string; data: string; seq: string }> = [];
  const calls = { publish: 0, commit: 0, reserve: 0 };
  let failures = options.failPublishes ?? 0;
  let clock = Date.parse('2026-03-01T00:00:00Z');
  let health: HealthReport = { state: 'GREEN', reasons: [] };
  const store: AdmissionStore = {
    async find(key) {
      const r = rows.get(key);
      return r ? { ...r } : undefined;
    },
    async findMany(keys) {
      return keys.flatMap((k) => {
        const r = rows.get(k);
        return r ? [{ ...r }] : [];
      });
    },
    async reserveMany(batch, claimUntil) {
      calls.reserve++;
      const inserted = new Set<string>();
      for (const row of batch) {
        if (rows.has(row.dedupe_key)) continue;
        rows.set(row.dedupe_key, { ...row, claimUntil: claimUntil.getTime() });
        inserted.add(row.dedupe_key);
      }
      return inserted;
    },
    async claim(key, now, claimUntil) {
      const r = rows.get(key);
      if (r?.state !== 'PUBLISH_PENDING' || r.claimUntil > now.getTime()) return false;
      r.claimUntil = claimUntil.getTime();
      return true;
    },
    async markPublished(published) {
      for (const { dedupe_key, eb_ref } of published) {
        const r = rows.get(dedupe_key);
        if (r && r.state === 'PUBLISH_PENDING') r.eb_ref = eb_ref;
      }
    },
    async markPublishFailed(failed) {
      for (const { dedupe_key, error } of failed) {
        const r = rows.get(dedupe_key);
        if (r)
          Object.assign(r, { publish_attempts: r.publish_attempts + 1, last_error: error, claimUntil: 0 });
      }
    },
    async commit(outcome) {
      calls.commit++;
      if (commitFailures > 0) {
        commitFailures--;
        throw new Error('connection terminated (the database went away mid-commit)');
      }
      for (const a of outcome.admitted) {
        const r = rows.get(a.dedupe_key);
        if (r)
          Object.assign(r, {
            state: 'ADMITTED',
            eb_ref: a.eb_ref,
            receipt_ref: a.receipt_ref,
            admitted_at_utc: a.admitted_at_utc,
            publish_attempts: r.publish_attempts + 1,
          });
      }
      for (const entry of outcome.receipts)
        if (!receipts.some((x) => x.receipt_id === entry.receipt_id)) receipts.push(entry);
      for (const entry of outcome.quarantines)
        if (!quarantines.some((x) => x.quarantine_id === entry.quarantine_id)) quarantines.push(entry);
    },
    async pending(now, limit) {
      return [...rows.values()]
        .filter((r) => r.state === 'PUBLISH_PENDING' && r.claimUntil <= now.getTime())
        .slice(0, limit);
    },
  };
  const ctx: AdmissionContext = {
    store,
    bus: {
      async publish(stream, batch) {
        calls.publish++;
        if (failures > 0) {
          failures--;
          return batch.map(() => ({ error: 'ProvisionedThroughputExceededException' }));
        }
        const lose = lostAnswers > 0;
        if (lose) lostAnswers--;
        return batch.map(({ partitionKey, data }) => {
          if (options.failRecord?.(data)) return { error: 'InternalFailure: record refused' };
          const seq = String(49_000_000_000 + records.length);
          records.push({ stream, partitionKey, data, seq });
          return lose
            ? { error: 'TimeoutError: no answer' }
            : { shardId: 'shardId-000000000001', sequenceNumber: seq };
        });
      },
      async locate(stream, wanted) {
        const found = new Map<number, { shardId: string; sequenceNumber: string }>();
        wanted.forEach((w, i) => {
          const hit = records.find((r) => r.stream === stream && r.data === w.data);
          if (hit) found.set(i, { shardId: 'shardId-000000000001', sequenceNumber: hit.seq });
        });
        return found;
      },
    },
    evidence: {
      async putOnce(key, body) {
        const created = !objects.has(key);
        if (created) objects.set(key, body);
        return { ref: `s3://fraud-platform/${key}`, created };
      },
      refOf: (key) => `s3://fraud-platform/${key}`,
    },
    payloads: {
      validate: (_type, payload) =>
        payload && Object.hasOwn(payload, 'extra_column') ? ['payload: unexpected column extra_column'] : [],
    },
    health: async () => health,
    now: () => new Date(clock),
    sleep: async (ms) => {
      clock += ms;
    },
    policy: {
      revision: 'local-parity-v0',
      contentDigest: 'c'.repeat(64),
      serviceReleaseId: 'dev-local',
      environment: 'local_parity',
      claimMs: 30_000,
      inFlightWaitMs: 2_000,
      denyOnAmber: false,
    },
  };
  return {
    ctx,
    calls,
    rows,
    receipts,
    quarantines,
    objects,
    records,
    setHealth: (h: HealthReport) => {
      health = h;
    },
    tick: (ms: number) => {
      clock += ms;
    },
  };
}

export const actor: Actor = {
  actor_id: 'SYSTEM::local-parity-wsp',
  source_type: 'SYSTEM',
  auth_mode: 'api_key',
};
export const FLOW_ID = 9_223_372_036_854_775_001n;

export function envelope(overrides: Record<string, unknown> = {}) {
  return {
    event_id: 'e'.repeat(64),
    event_type: 's3_event_stream_with_fraud_6B',
    ts_utc: '2026-03-08T00:01:03.106979Z',
    manifest_fingerprint: 'a'.repeat(64),
    parameter_hash: 'b'.repeat(64),
    seed: 42,
    scenario_id: 'baseline_v1',
    run_id: '1'.repeat(32),
    platform_run_id: 'platform_20260301T000000Z',
    scenario_run_id: '2'.repeat(32),
    producer: 'svc:world_stream_producer',
    payload: { flow_id: FLOW_ID, event_seq: 0, amount: 12.5 },
    ...overrides,
  };
}
