import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPool } from '../../../lib/adapters/postgres/pool.ts';
import { canonicalJson, parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import { scenarioRunId } from '../../../lib/contracts/identity.ts';
import { platformRunIdAt } from '../../../lib/contracts/platform-run.ts';
import { ControlBusRecord, ReadySignal } from '../../../lib/contracts/ready.ts';
import { PACK_MANIFEST_KEY } from '../../../lib/oracle-store/pack-contracts.ts';
import { LEASE_BUSY_MESSAGE } from '../../../lib/scenario-runner/submit.ts';
import { clientsFor } from '../../support/clients.ts';
import { copyEngineRun } from '../../support/engine-runs.ts';
import {
  controlRecordsOf,
  platformJson,
  SR_PLATFORM_BUCKET,
  scenarioRunnerClient,
} from '../../support/scenario-runner.ts';
import { type OracleWorld, oracleWorld } from '../../support/world-streamer.ts';

/**
 * Spec §9 acceptance checks of the Scenario Runner on the local cloud (control-ingress.md §3): concurrent submits
 * over HTTP and as the run lifecycle's task (§9.3), a tampered gate bundle (§9.4), a pack manifest naming another
 * scenario (§9.5). The deployed functions, Postgres (sr_run_equivalence, sr_run_leases), S3 and kinesalite.
 */

const { state } = inject('stack');
const { s3, kinesis, sfn } = clientsFor(state);
const { post, invokeTask } = scenarioRunnerClient(state);
const HOUR = 3_600_000;
/** One platform run per check (instance receipts are per platform run and world, whatever the engine root). */
const stamp = Date.now() - 48 * HOUR - Math.floor(Math.random() * 1000) * 1000;
const PRID_CONCURRENT = platformRunIdAt(new Date(stamp));
const PRID_TAMPERED = platformRunIdAt(new Date(stamp - HOUR));
const PRID_PACK = platformRunIdAt(new Date(stamp - 2 * HOUR));
const PRID_COPY = platformRunIdAt(new Date(stamp - 3 * HOUR));
const WINDOW = { window_start_utc: '2026-01-01T00:00:00Z', window_end_utc: '2026-01-02T00:00:00Z' };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-acceptance-'));
let oracle: OracleWorld;
let tamperedRoot: string;
let otherPackRoot: string;
let copiedRoot: string;

function submission(platformRunId: string, key: string, engineRunRoot: string) {
  return {
    platform_run_id: platformRunId,
    run_equivalence_key: key,
    manifest_fingerprint: oracle.world.manifestFingerprint,
    parameter_hash: oracle.world.parameterHash,
    seed: oracle.world.seed,
    scenario: { scenario_id: oracle.world.scenarioId },
    window: WINDOW,
    engine_run_root: engineRunRoot,
  };
}

/** The run record's event kinds, in order (`<prid>/sr/run_record/{id}.jsonl`). */
async function recordKinds(platformRunId: string, runId: string): Promise<string[]> {
  const got = await s3.send(
    new GetObjectCommand({
      Bucket: SR_PLATFORM_BUCKET,
      Key: `${platformRunId}/sr/run_record/${runId}.jsonl`,
    }),
  );
  const text = (await got.Body?.transformToString('utf8')) ?? '';
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (parseJsonLossless(line) as { event_kind: string }).event_kind);
}

async function absent(key: string): Promise<boolean> {
  try {
    await s3.send(new GetObjectCommand({ Bucket: SR_PLATFORM_BUCKET, Key: key }));
    return false;
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return true;
    throw error;
  }
}

beforeAll(async () => {
  oracle = await oracleWorld(sfn, state, path.join(dir, 'world'), { events: 2_000, seed: 90_303n });
  const prefix = `engine-runs/sr-acceptance-${PRID_CONCURRENT.slice('platform_'.length)}`;
  // §9.4: one file listed in the 6B bundle index changes after the flag was written (its digest no longer holds).
  const tampered = await copyEngineRun(s3, oracle.engineRunRoot, `${prefix}-tampered`, (key, body) =>
    /^data\/layer3\/6B\/validation\/[^/]+\/s5_validation_report_6B\.json$/.test(key)
      ? Buffer.concat([body, Buffer.from(' ')])
      : body,
  );
  tamperedRoot = tampered.root;
  // §9.5: a sealed pack whose manifest names another scenario than the request.
  const otherPack = await copyEngineRun(s3, oracle.engineRunRoot, `${prefix}-other-pack`, (key, body) => {
    if (key !== PACK_MANIFEST_KEY) return body;
    const manifest = parseJsonLossless(Buffer.from(body).toString('utf8')) as {
      world_key: { scenario_id: string };
    };
    manifest.world_key.scenario_id = 'baseline_v2';
    return Buffer.from(`${canonicalJson(manifest)}\n`);
  });
  otherPackRoot = otherPack.root;
  // The control: an unaltered copy, so the outcomes above are the altered bytes, not the copying.
  copiedRoot = (await copyEngineRun(s3, oracle.engineRunRoot, `${prefix}-copy`)).root;
}, 300_000);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('§9.3 duplicate and concurrent submits of one request', () => {
  const key = `concurrent_${PRID_CONCURRENT}`;
  const runId = scenarioRunId(key);

  it('five at once (three POST /v1/runs, two lifecycle tasks): one leader, the others "Lease held by another runner…" (or, started late, the finished run), one READY, one READY_COMMITTED', async () => {
    // Warm one container per concurrent call, so the submits below overlap instead of queueing behind cold starts.
    const warm = await Promise.all([
      ...Array.from({ length: 3 }, () => post({}, 'not-a-key')),
      ...Array.from({ length: 2 }, () => invokeTask({})),
    ]);
    expect(warm.slice(0, 3).map((w) => ('status' in w ? w.status : 0))).toEqual([401, 401, 401]);

    const body = submission(PRID_CONCURRENT, key, oracle.engineRunRoot);
    const [h1, h2, h3, t1, t2] = await Promise.all([
      post(body),
      post(body),
      post(body),
      invokeTask(body),
      invokeTask(body),
    ]);
    for (const t of [t1, t2]) expect(t?.functionError).toBeUndefined();
    const answers = [
      ...[h1, h2, h3].map((h) => ({ via: 'http', status: h?.status, ...h?.body })),
      ...[t1, t2].map((t) => ({ via: 'task', status: undefined, ...t?.payload })),
    ] as Array<{ via: string; status?: number; disposition?: string; state?: string; message?: string }>;

    const leaders = answers.filter((a) => a.disposition === 'LEADER');
    expect(leaders).toHaveLength(1);
    expect(leaders[0]).toMatchObject({ run_id: runId, state: 'READY', message: 'READY committed' });
    if (leaders[0]?.via === 'http') expect(leaders[0].status).toBe(200);
    // Every other submit met the leader's lease (LEASE_BUSY, the current status not terminal yet), or, if the
    // machine was slow enough to start it after the leader had committed, found the run READY (EXISTING). Under
    // the whole suite's load a late one happens; at least one must have met the lease.
    const busy = answers.filter((a) => a.disposition === 'LEASE_BUSY');
    const late = answers.filter((a) => a.disposition === 'EXISTING');
    expect(busy.length + late.length).toBe(4);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    for (const a of late) expect(a).toMatchObject({ run_id: runId, state: 'READY' });
    for (const a of busy) {
      expect(a).toMatchObject({ run_id: runId, message: LEASE_BUSY_MESSAGE });
      expect(a.message).toBe('Lease held by another runner; returning current status.');
      // The leader had not finished: the current status is not terminal, so HTTP answers 202.
      expect(['OPEN', 'PLANNED']).toContain(a.state);
      if (a.via === 'http') expect(a.status).toBe(202);
    }
  });

  it('left exactly one READY on sr-control-bus, one READY_COMMITTED in the run record, and the lease released', async () => {
    const records = await controlRecordsOf(kinesis, runId);
    expect(records).toHaveLength(1);
    const record = ControlBusRecord.parse(JSON.parse(records[0]?.data ?? '{}'));
    expect(record.attributes).toEqual({ kind: 'READY', run_id: runId });
    const signal = ReadySignal.parse(
      await platformJson(s3, `${PRID_CONCURRENT}/sr/ready_signal/${runId}.json`),
    );
    expect(record.message_id).toBe(signal.message_id);

    // Only the leader wrote: each commit step once (§3.4 run record), the index listing exactly those events.
    expect(await recordKinds(PRID_CONCURRENT, runId)).toEqual([
      'RUN_ACCEPTED',
      'PLAN_COMMITTED',
      'GOV_POLICY_REV',
      'GOV_PLAN_HASH',
      'READY_COMMITTED',
      'GOV_BUNDLE_HASH',
      'GOV_RUN_IDENTITY_SOURCES',
      'READY_PUBLISHED',
    ]);
    const index = (await platformJson(s3, `${PRID_CONCURRENT}/sr/run_record_index/${runId}.json`)) as {
      event_ids: string[];
    };
    expect(new Set(index.event_ids).size).toBe(8);
    expect(await platformJson(s3, `${PRID_CONCURRENT}/sr/run_status/${runId}.json`)).toMatchObject({
      state: 'READY',
    });

    const pool = createPool({ connectionString: state.databaseUrl });
    try {
      const leases = await pool.query('SELECT count(*)::int AS n FROM sr_run_leases WHERE run_id = $1', [
        runId,
      ]);
      expect(leases.rows[0]?.n).toBe(0);
      const keys = await pool.query(
        'SELECT count(*)::int AS n FROM sr_run_equivalence WHERE run_equivalence_key = $1',
        [key],
      );
      expect(keys.rows[0]?.n).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('a later duplicate returns the existing READY and publishes nothing', async () => {
    const again = await post(submission(PRID_CONCURRENT, key, oracle.engineRunRoot));
    expect(again).toMatchObject({ status: 200, body: { state: 'READY', disposition: 'EXISTING' } });
    expect(await controlRecordsOf(kinesis, runId)).toHaveLength(1);
    expect((await recordKinds(PRID_CONCURRENT, runId)).filter((k) => k === 'READY_COMMITTED')).toHaveLength(
      1,
    );
  });
});

describe('§9.4 and §9.5: evidence that does not hold', () => {
  it('§9.4 a tampered file of the 6B gate bundle → QUARANTINED EVIDENCE_CONFLICT, sr/quarantine/{id}.json, nothing on the bus', async () => {
    const key = `tampered_${PRID_TAMPERED}`;
    const runId = scenarioRunId(key);
    const answer = await post(submission(PRID_TAMPERED, key, tamperedRoot));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      run_id: runId,
      state: 'QUARANTINED',
      reason_code: 'EVIDENCE_CONFLICT',
      disposition: 'LEADER',
    });
    const note = (await platformJson(s3, `${PRID_TAMPERED}/sr/quarantine/${runId}.json`)) as Record<
      string,
      unknown
    >;
    expect(note).toMatchObject({
      run_id: runId,
      reason: 'EVIDENCE_CONFLICT',
      missing: [],
      record_ref: `${PRID_TAMPERED}/sr/run_record/${runId}.jsonl`,
      status_ref: `${PRID_TAMPERED}/sr/run_status/${runId}.json`,
    });
    expect(String(note.detail)).toMatch(/6B/);
    expect(await platformJson(s3, `${PRID_TAMPERED}/sr/run_status/${runId}.json`)).toMatchObject({
      state: 'QUARANTINED',
      reason_code: 'EVIDENCE_CONFLICT',
    });
    const kinds = await recordKinds(PRID_TAMPERED, runId);
    expect(kinds.filter((k) => k === 'EVIDENCE_CONFLICT')).toHaveLength(1);
    expect(kinds).not.toContain('READY_COMMITTED');
    expect(await absent(`${PRID_TAMPERED}/sr/run_facts_view/${runId}.json`)).toBe(true);
    expect(await absent(`${PRID_TAMPERED}/sr/ready_signal/${runId}.json`)).toBe(true);
    expect(await controlRecordsOf(kinesis, runId)).toHaveLength(0);
  });

  it('the control: an unaltered copy of the same engine run → READY', async () => {
    const key = `copy_${PRID_COPY}`;
    const answer = await post(submission(PRID_COPY, key, copiedRoot));
    expect(answer).toMatchObject({ status: 200, body: { run_id: scenarioRunId(key), state: 'READY' } });
    expect(await controlRecordsOf(kinesis, scenarioRunId(key))).toHaveLength(1);
  });

  it('§9.5 a pack manifest whose scenario_id differs from the request → FAILED ORACLE_PACK_MISMATCH, nothing on the bus', async () => {
    const key = `other_pack_${PRID_PACK}`;
    const runId = scenarioRunId(key);
    const answer = await post(submission(PRID_PACK, key, otherPackRoot));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      run_id: runId,
      state: 'FAILED',
      reason_code: 'ORACLE_PACK_MISMATCH',
      disposition: 'LEADER',
    });
    expect(await platformJson(s3, `${PRID_PACK}/sr/run_status/${runId}.json`)).toMatchObject({
      state: 'FAILED',
      reason_code: 'ORACLE_PACK_MISMATCH',
    });
    const kinds = await recordKinds(PRID_PACK, runId);
    expect(kinds.filter((k) => k === 'EVIDENCE_FAIL')).toHaveLength(1);
    expect(kinds).not.toContain('READY_COMMITTED');
    expect(await absent(`${PRID_PACK}/sr/run_facts_view/${runId}.json`)).toBe(true);
    expect(await absent(`${PRID_PACK}/sr/quarantine/${runId}.json`)).toBe(true);
    expect(await controlRecordsOf(kinesis, runId)).toHaveLength(0);
  });
});
