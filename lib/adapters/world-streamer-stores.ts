import type { S3Client } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { canonicalJson, parseJsonLossless } from '../contracts/canonical-json.ts';
import type { CanonicalEnvelope } from '../contracts/envelope.ts';
import { pythonIsoformat } from '../contracts/python-format.ts';
import { InvariantViolation, RequestInvalid } from '../errors/platform-error.ts';
import type {
  ActiveRunReader,
  CheckpointStore,
  EngineRunOpener,
  GovernanceSink,
  IngestionGateClient,
  ProducerAllowlistSource,
  ReadyClaim,
  ReadyRunStore,
  RunFactsReader,
  StreamRunStarter,
} from '../world-streamer/ports.ts';
import { FINAL_READY_STATUSES, type FinalReadyStatus } from '../world-streamer/reason-codes.ts';
import { Checkpoint, type GovernanceEvent, RunStreamOverrides } from '../world-streamer/stream-contracts.ts';
import type { RunStreamSettingsReader } from '../world-streamer/stream-plan.ts';
import { s3GovernanceEventSink } from './governance-sink.ts';
import type { Pool } from './postgres/pool.ts';
import { s3ObjectReader } from './s3-object-store.ts';
import { getObjectText, putObjectOnce } from './s3-objects.ts';

/** The World Streamer's ports on Postgres (migration 0004), S3, Step Functions and the IG HTTP API. */

/** `s3://bucket/key…` split; undefined for anything else. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  return m?.[1] ? { bucket: m[1], key: m[2] ?? '' } : undefined;
}

const isFinal = (status: string): status is FinalReadyStatus =>
  (FINAL_READY_STATUSES as readonly string[]).includes(status);

/**
 * READY dedupe and ready record (§4.1 steps 1 and 8). `claim` is one atomic upsert: a new message_id becomes
 * IN_PROGRESS attempt 1, a FAILED one is re-opened as attempt n + 1; anything else is reported as it stands.
 */
export function postgresReadyRunStore(pool: Pool): ReadyRunStore {
  return {
    async claim(messageId, at): Promise<ReadyClaim> {
      const claimed = await pool.query<{ attempt: number }>(
        `INSERT INTO wsp_ready_runs (message_id, status, attempt, claimed_at_utc) VALUES ($1, 'IN_PROGRESS', 1, $2)
         ON CONFLICT (message_id) DO UPDATE
           SET status = 'IN_PROGRESS', attempt = wsp_ready_runs.attempt + 1, claimed_at_utc = EXCLUDED.claimed_at_utc,
               updated_at_utc = now()
           WHERE wsp_ready_runs.status = 'FAILED'
         RETURNING attempt`,
        [messageId, at],
      );
      const row = claimed.rows[0];
      if (row) return { kind: 'claimed', attempt: row.attempt };
      const current = await pool.query<{ status: string; attempt: number }>(
        'SELECT status, attempt FROM wsp_ready_runs WHERE message_id = $1',
        [messageId],
      );
      const found = current.rows[0];
      if (!found) throw new InvariantViolation(`wsp_ready_runs: ${messageId} neither claimed nor present`);
      if (isFinal(found.status)) return { kind: 'final', status: found.status };
      return { kind: 'in_progress', attempt: found.attempt };
    },

    async record(line) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO wsp_ready_record (message_id, run_id, status, reason, emitted, engine_run_root, scenario_id, ts_utc)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            line.message_id,
            line.run_id,
            line.status,
            line.reason,
            line.emitted,
            line.engine_run_root,
            line.scenario_id,
            line.ts_utc,
          ],
        );
        if (line.status !== 'SKIPPED_DUPLICATE') {
          // A final status is never overwritten (a late FAILED of a stale session must not re-open a STREAMED run).
          await client.query(
            `INSERT INTO wsp_ready_runs (message_id, status, attempt, claimed_at_utc) VALUES ($1, $2, 1, now())
             ON CONFLICT (message_id) DO UPDATE SET status = EXCLUDED.status, updated_at_utc = now()
               WHERE wsp_ready_runs.status NOT IN ('STREAMED', 'SKIPPED_OUT_OF_SCOPE')`,
            [line.message_id, line.status],
          );
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

interface CheckpointRow {
  pack_key: string;
  output_id: string;
  next_row: string;
  last_file: string | null;
  last_row_index: string | null;
  last_ts_utc: string | null;
  session_id: string;
  session_emitted: string;
  reason: string;
  version: number;
  updated_at_utc: Date;
}

/** §4.6 `wsp_checkpoint`, compare-and-set on `version` in one upsert (0 = no row yet). */
export function postgresCheckpointStore(pool: Pool): CheckpointStore {
  return {
    async load(key) {
      const res = await pool.query<CheckpointRow>(
        'SELECT * FROM wsp_checkpoint WHERE pack_key = $1 AND output_id = $2',
        [key.scopeKey, key.outputId],
      );
      const r = res.rows[0];
      if (!r) return undefined;
      return Checkpoint.parse({
        scope_key: r.pack_key,
        output_id: r.output_id,
        next_row: Number(r.next_row),
        last_file: r.last_file,
        last_row_index: r.last_row_index === null ? null : Number(r.last_row_index),
        last_ts_utc: r.last_ts_utc,
        session_id: r.session_id,
        session_emitted: Number(r.session_emitted),
        reason: r.reason,
        version: r.version,
        updated_at_utc: pythonIsoformat(r.updated_at_utc),
      });
    },
    async save(checkpoint, expectedVersion) {
      const c = Checkpoint.parse(checkpoint);
      const values = [
        c.scope_key,
        c.output_id,
        c.next_row,
        c.last_file,
        c.last_row_index,
        c.last_ts_utc,
        c.session_id,
        c.session_emitted,
        c.reason,
        c.version,
        c.updated_at_utc,
      ];
      const res =
        expectedVersion === 0
          ? await pool.query(
              `INSERT INTO wsp_checkpoint (pack_key, output_id, next_row, last_file, last_row_index, last_ts_utc,
                 session_id, session_emitted, reason, version, updated_at_utc)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (pack_key, output_id) DO NOTHING`,
              values,
            )
          : await pool.query(
              `UPDATE wsp_checkpoint SET next_row = $3, last_file = $4, last_row_index = $5, last_ts_utc = $6,
                 session_id = $7, session_emitted = $8, reason = $9, version = $10, updated_at_utc = $11
               WHERE pack_key = $1 AND output_id = $2 AND version = $12`,
              [...values, expectedVersion],
            );
      return res.rowCount === 1;
    },
  };
}

/** §4.1 step 4: `PLATFORM_RUN_ID` when set, else the run pinned in `active_run` (P1), else none. */
export function activeRunReader(pool: () => Promise<Pool>, explicit?: string): ActiveRunReader {
  return {
    async activePlatformRunId() {
      if (explicit) return explicit;
      const res = await (await pool()).query<{ platform_run_id: string }>(
        'SELECT platform_run_id FROM active_run WHERE singleton',
      );
      return res.rows[0]?.platform_run_id;
    },
  };
}

/** The run's stream settings pinned at P1 (platform_runs.stream_settings); {} for a run pinned without them. */
export function postgresRunStreamSettings(pool: () => Promise<Pool>): RunStreamSettingsReader {
  return {
    async settingsOf(platformRunId) {
      const res = await (await pool()).query<{ stream_settings: unknown }>(
        'SELECT stream_settings FROM platform_runs WHERE platform_run_id = $1',
        [platformRunId],
      );
      const parsed = RunStreamOverrides.safeParse(res.rows[0]?.stream_settings ?? {});
      return parsed.success ? parsed.data : {};
    },
  };
}

/**
 * The run facts view a READY names: `s3://bucket/key`, or a key relative to the platform store root (the platform
 * bucket). An absolute local path cannot be read by a Lambda and throws (→ RUN_FACTS_INVALID).
 */
export function s3RunFactsReader(s3: S3Client, platformBucket: string): RunFactsReader {
  return {
    async read(ref) {
      const uri = parseS3Uri(ref);
      if (!uri && ref.startsWith('/'))
        throw new RequestInvalid(
          'RUN_FACTS_INVALID',
          `facts_view_ref ${ref}: local paths are not readable here`,
        );
      const { bucket, key } = uri ?? { bucket: platformBucket, key: ref.replace(/^\.\//, '') };
      const body = await getObjectText(s3, bucket, key);
      return body === undefined ? undefined : parseJsonLossless(body);
    },
  };
}

/** Governance events of the World Streamer, through the platform's governance writer (governance-sink.ts). */
export function s3GovernanceSink(
  s3: S3Client,
  platformBucket: string,
  warn: (line: string) => void = (line) => console.warn(line),
): GovernanceSink {
  return s3GovernanceEventSink<GovernanceEvent>(s3, platformBucket, warn);
}

/** Engine run roots `s3://bucket/prefix`, read through the Oracle Store's S3 ObjectStore (same `root` string). */
export function s3EngineRunOpener(s3: S3Client): EngineRunOpener {
  return {
    open(engineRunRoot) {
      const uri = parseS3Uri(engineRunRoot);
      if (!uri)
        throw new RequestInvalid(
          'ENGINE_ROOT_INVALID',
          `engine_run_root ${engineRunRoot}: expected s3://bucket/prefix`,
        );
      return s3ObjectReader(s3, uri.bucket, uri.key);
    },
  };
}

/**
 * Starts `stream-run` executions (by the ARN the stage configures). A running execution of the same name and
 * input is started again idempotently (`started: true`); ExecutionAlreadyExists (one of that name has ended) →
 * `started: false`.
 */
export function sfnStreamRunStarter(sfn: SFNClient, stateMachineArn: string): StreamRunStarter {
  return {
    async start(name, input) {
      try {
        await sfn.send(
          new StartExecutionCommand({
            stateMachineArn,
            name,
            input: JSON.stringify(input),
          }),
        );
        return { started: true };
      } catch (error) {
        if (error instanceof ExecutionAlreadyExists || (error as Error).name === 'ExecutionAlreadyExists') {
          return { started: false };
        }
        throw error;
      }
    },
  };
}

/** §4.2 step 7 the allowlist text from configuration (the reference reads wsp/producer_allowlist_v0.txt). */
export function textAllowlistSource(text: string | undefined): ProducerAllowlistSource {
  return { read: async () => text };
}

/**
 * §4.7 `POST {IG_URL}/v1/ingest/push` (the path is appended if missing), or `/v1/ingest/batch`, with
 * `x-ig-api-key`; the body is canonical JSON, so 64-bit ids stay exact. A timeout or connection error throws (the
 * core retries it).
 */
export function httpIngestionGateClient(options: {
  url: string;
  apiKey: () => Promise<string>;
  timeoutMs: number;
}): IngestionGateClient {
  const base = options.url.replace(/\/+$/, '').replace(/\/v1\/ingest\/push$/, '');
  const post = async (route: string, body: string) => {
    const res = await fetch(`${base}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-ig-api-key': await options.apiKey() },
      body,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    return { status: res.status, body: await res.text() };
  };
  return {
    push: (envelope: CanonicalEnvelope) => post('/v1/ingest/push', canonicalJson(envelope)),
    pushBatch: (envelopes) => post('/v1/ingest/batch', canonicalJson({ envelopes })),
  };
}

/** A rejected control-bus record's evidence, write-once in the platform bucket; returns its key. */
export async function setAsideControlRecord(
  s3: S3Client,
  bucket: string,
  record: {
    eventSourceARN?: string;
    kinesis: { partitionKey: string; sequenceNumber: string; data: string };
  },
  reason: string,
): Promise<string> {
  const key = `wsp/control-bus-rejects/${record.kinesis.sequenceNumber}.json`;
  const body = canonicalJson({
    event_source_arn: record.eventSourceARN,
    partition_key: record.kinesis.partitionKey,
    sequence_number: record.kinesis.sequenceNumber,
    reason,
    data_base64: record.kinesis.data,
  });
  await putObjectOnce(s3, bucket, key, `${body}\n`);
  return key;
}
