import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPool } from '../../../lib/adapters/postgres/pool.ts';
import {
  kinesisControlBus,
  oracleWorldReader,
  postgresRunAuthority,
  s3RunArtifactStore,
  systemClock,
} from '../../../lib/adapters/scenario-runner-stores.ts';
import { platformRunIdAt } from '../../../lib/contracts/platform-run.ts';
import { ControlBusRecord, RunFactsView } from '../../../lib/contracts/ready.ts';
import {
  ScenarioRunnerEnvironment,
  scenarioRunnerSettings,
} from '../../../lib/runtime/scenario-runner-config.ts';
import { submitSubmission } from '../../../lib/scenario-runner/submission.ts';
import { runOraclePipeline } from '../../../tools/oracle-pipeline-runner.ts';
import { generateWorld, type WorldSummary } from '../../../tools/world/generate.ts';
import { clientsFor } from '../../support/clients.ts';
import {
  controlRecordsOf,
  platformJson as platformObject,
  SR_API_KEY,
  SR_CONTROL_BUS,
  SR_PLATFORM_BUCKET,
  scenarioRunnerClient,
} from '../../support/scenario-runner.ts';

/**
 * The Scenario Runner on the local cloud (control-ingress.md §3, §9 checks 1–4): `POST /v1/runs` on
 * serverless-offline → the scenario-runner-submit Lambda → Postgres (sr_run_equivalence, sr_run_leases), the
 * platform bucket (sr/ artifacts), the oracle-store bucket (a generated world, synced, sealed and sorted by the
 * oracle-pipeline state machine) and kinesalite (`sr-control-bus`); the same submission as the run lifecycle's
 * Lambda task.
 */

const { state } = inject('stack');
const { s3, kinesis, sfn } = clientsFor(state);
const { post, invokeTask } = scenarioRunnerClient(state);
const oraclePipeline = state.stateMachines.find((m) => m.name.endsWith('-oracle-pipeline'));
const KEY = SR_API_KEY;
const PLATFORM_BUCKET = SR_PLATFORM_BUCKET;
const CONTROL_BUS = SR_CONTROL_BUS;
const PRID = platformRunIdAt(new Date());
/**
 * The missing-flag world has the golden world's key, and instance receipts are keyed by the world's partition
 * tokens within a platform run: under PRID its outputs (another engine root) would be INSTANCE_RECEIPT_DRIFT.
 */
const MISSING_PRID = platformRunIdAt(new Date(Date.now() - 3_600_000));
const MISSING_FLAG_PREFIX = 'engine-runs/sr-missing-6b-flag';
const WINDOW = { window_start_utc: '2026-01-01T00:00:00Z', window_end_utc: '2026-01-02T00:00:00Z' };

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
/** §3.2 run_id = sha256("sr_run|" + key)[:32]. */
const runIdOf = (key: string) => sha(`sr_run|${key}`).slice(0, 32);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scenario-runner-'));
const worldDir = path.join(dir, 'world');
let world: WorldSummary;
let engineRunRoot: string;

function submission(key: string, overrides: Record<string, unknown> = {}) {
  return {
    platform_run_id: PRID,
    run_equivalence_key: key,
    manifest_fingerprint: world.manifestFingerprint,
    parameter_hash: world.parameterHash,
    seed: world.seed,
    scenario: { scenario_id: 'baseline_v1' },
    window: WINDOW,
    engine_run_root: engineRunRoot,
    ...overrides,
  };
}

const recordsOf = (runId: string) => controlRecordsOf(kinesis, runId);
const platformJson = (key: string) => platformObject(s3, key);

/** Every file under `root` whose relative path passes `match`. */
function filesUnder(root: string, match: (relative: string) => boolean): string[] {
  return fs
    .readdirSync(root, { recursive: true })
    .map(String)
    .filter((f) => match(f.split(path.sep).join('/')))
    .map((f) => path.join(root, f));
}

beforeAll(async () => {
  world = await generateWorld({ out: worldDir, events: 2_000, seed: 7n });
  const done = await runOraclePipeline(
    sfn,
    oraclePipeline?.arn ?? 'missing',
    { world_source: `file://${worldDir}`, scenario_id: 'baseline_v1' },
    () => undefined,
  );
  expect(done.error ?? done.status).toBe('SUCCEEDED');
  engineRunRoot = done.summary?.engine_run_root ?? 'missing';
  expect(engineRunRoot).toMatch(/^s3:\/\/oracle-store\/engine-runs\//);

  // The same world without the 6B gate's _passed.flag, under another engine run prefix. The pipeline syncs it,
  // then its check stops on the missing gate; the objects stay in the oracle store for SR to find.
  const tampered = path.join(dir, 'missing-6b-flag');
  fs.cpSync(worldDir, tampered, { recursive: true });
  const flags = filesUnder(tampered, (f) => f.startsWith('data/layer3/6B/') && f.endsWith('_passed.flag'));
  expect(flags).toHaveLength(1);
  for (const flag of flags) fs.rmSync(flag);
  const broken = await runOraclePipeline(
    sfn,
    oraclePipeline?.arn ?? 'missing',
    {
      world_source: `file://${tampered}`,
      engine_run_prefix: MISSING_FLAG_PREFIX,
      scenario_id: 'baseline_v1',
    },
    () => undefined,
  );
  expect(broken.error).toBe('ORACLE_CHECK_FAILED');
}, 300_000);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('scenario runner: POST /v1/runs on the local cloud', () => {
  const goldenKey = `parity_${PRID.slice('platform_'.length)}`;
  const goldenRunId = runIdOf(goldenKey);

  it('golden reuse (§9.2): READY, the facts view resolvable in S3, exactly one READY on sr-control-bus with the message_id recipe', async () => {
    const answer = await post(submission(goldenKey));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      run_id: goldenRunId,
      platform_run_id: PRID,
      state: 'READY',
      disposition: 'LEADER',
      facts_view_ref: `${PRID}/sr/run_facts_view/${goldenRunId}.json`,
      status_ref: `${PRID}/sr/run_status/${goldenRunId}.json`,
    });

    const facts = RunFactsView.parse(await platformJson(String(answer.body.facts_view_ref)));
    expect(facts).toMatchObject({ run_id: goldenRunId, platform_run_id: PRID, scenario_run_id: goldenRunId });
    expect(facts.pins).toMatchObject({
      manifest_fingerprint: world.manifestFingerprint,
      parameter_hash: world.parameterHash,
      scenario_id: 'baseline_v1',
      run_id: goldenRunId,
    });
    expect(facts.intended_outputs).toEqual(['s3_event_stream_with_fraud_6B']); // the parity profile's traffic
    expect(facts.gate_receipts.length).toBeGreaterThan(0);
    expect(facts.gate_receipts.every((g) => g.status === 'PASS')).toBe(true);
    expect(facts.oracle_pack_ref).toMatchObject({
      engine_run_root: engineRunRoot,
      stream_view_root: `${engineRunRoot}/stream_view/ts_utc`,
    });
    const status = (await platformJson(`${PRID}/sr/run_status/${goldenRunId}.json`)) as { state: string };
    expect(status.state).toBe('READY');

    const records = await recordsOf(goldenRunId);
    expect(records).toHaveLength(1);
    const record = ControlBusRecord.parse(JSON.parse(records[0]?.data ?? '{}'));
    expect(record.topic).toBe('fp.bus.control.v1');
    expect(record.attributes).toEqual({ kind: 'READY', run_id: goldenRunId });
    expect(record.message_id).toBe(sha(`ready|${PRID}|${goldenRunId}|${facts.bundle_hash}`));
    expect(record.payload.facts_view_ref).toBe(answer.body.facts_view_ref);
    expect(await platformJson(record.payload.facts_view_ref)).toEqual(
      await platformJson(String(answer.body.facts_view_ref)),
    );
  });

  it('a re-submit (over HTTP, and as the lifecycle task with the world key from run_receipt.json) returns the existing status and publishes nothing new', async () => {
    const again = await post(submission(goldenKey));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ run_id: goldenRunId, state: 'READY', disposition: 'EXISTING' });

    const { manifest_fingerprint, parameter_hash, seed, ...lifecycleInput } = submission(goldenKey);
    const task = await invokeTask(lifecycleInput);
    expect(task.functionError).toBeUndefined();
    expect(task.payload).toMatchObject({
      run_id: goldenRunId,
      platform_run_id: PRID,
      state: 'READY',
      disposition: 'EXISTING',
      facts_view_ref: `${PRID}/sr/run_facts_view/${goldenRunId}.json`,
    });

    expect(await recordsOf(goldenRunId)).toHaveLength(1);
  });

  it('the same key with another window is EQUIV_KEY_COLLISION (§9.1) and writes nothing', async () => {
    const collision = await post(
      submission(goldenKey, {
        window: { window_start_utc: '2026-01-01T00:00:00Z', window_end_utc: '2026-01-03T00:00:00Z' },
      }),
    );
    expect(collision.status).toBe(409);
    expect(collision.body.error).toBe('EQUIV_KEY_COLLISION');
    expect(await recordsOf(goldenRunId)).toHaveLength(1);
  });

  it('the same world key from another engine root in the same platform run → FAILED INSTANCE_RECEIPT_DRIFT (§9.5)', async () => {
    const key = `drift_${PRID}`;
    const answer = await post(
      submission(key, { engine_run_root: `s3://oracle-store/${MISSING_FLAG_PREFIX}` }),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      run_id: runIdOf(key),
      state: 'FAILED',
      reason_code: 'INSTANCE_RECEIPT_DRIFT',
    });
    expect(await recordsOf(runIdOf(key))).toHaveLength(0);
  });

  it('answers 401 UNAUTHORIZED without a key or with a wrong one', async () => {
    for (const key of [null, 'not-a-key', 'local-parity-wsp']) {
      const answer = await post(submission(`unauthorized_${PRID}`), key);
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: 'UNAUTHORIZED', detail: null });
    }
    expect(await recordsOf(runIdOf(`unauthorized_${PRID}`))).toHaveLength(0);
  });

  it('answers 400 with a reason code for a bad body', async () => {
    const badField = await post(submission(`bad_${PRID}`, { manifest_fingerprint: 'not-hex' }));
    expect(badField.status).toBe(400);
    expect(badField.body.error).toBe('RUN_REQUEST_INVALID');
    expect(String(badField.body.detail)).toMatch(/manifest_fingerprint/);

    const noWindow = await post({ ...submission(`bad_${PRID}`), window: undefined });
    expect(noWindow.status).toBe(400);
    expect(noWindow.body.error).toBe('RUN_REQUEST_INVALID');
    expect(String(noWindow.body.detail)).toMatch(/window/);

    const unknownField = await post(submission(`bad_${PRID}`, { colour: 'blue' }));
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error).toBe('RUN_REQUEST_INVALID');

    const notJson = await post('{"platform_run_id": ');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toBe('INVALID_JSON');

    const noPlatformRun = await post({ ...submission(`bad_${PRID}`), platform_run_id: 'yesterday' });
    expect(noPlatformRun.status).toBe(400);
    expect(noPlatformRun.body.error).toBe('RUN_REQUEST_INVALID');
  });

  it('the lifecycle task refuses a bad input with an error named by its reason code', async () => {
    const task = await invokeTask({ platform_run_id: PRID, run_equivalence_key: `task_bad_${PRID}` });
    expect(task.functionError).toBeDefined();
    // The stack trace's first line names the error (the Step Functions server Catches by it).
    expect(JSON.stringify(task.payload)).toMatch(
      /RUN_REQUEST_INVALID: manifest_fingerprint, parameter_hash and seed/,
    );
  });
});

describe('scenario runner: a missing 6B gate flag (§9.4)', () => {
  const missingRoot = `s3://oracle-store/${MISSING_FLAG_PREFIX}`;

  it('with the configured wait (600 s) → WAITING_EVIDENCE (202), nothing on the bus', async () => {
    const key = `missing_flag_wait_${PRID}`;
    const answer = await post(
      submission(key, { platform_run_id: MISSING_PRID, engine_run_root: missingRoot }),
    );
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({
      run_id: runIdOf(key),
      state: 'WAITING_EVIDENCE',
      reason_code: 'EVIDENCE_WAITING',
    });
    expect(await recordsOf(runIdOf(key))).toHaveLength(0);
  });

  it('with wait 0 → FAILED EVIDENCE_MISSING_DEADLINE, nothing on the bus (the adapters in process)', async () => {
    // The deployed functions run with the stack's policy (wait 600 s); this submission uses the same adapters
    // against the same parts with evidence_wait_seconds 0.
    const pool = createPool({ connectionString: state.databaseUrl });
    try {
      const sr = ScenarioRunnerEnvironment.parse({ SR_API_KEYS: KEY, SR_EVIDENCE_WAIT_SECONDS: '0' });
      const key = `missing_flag_deadline_${PRID}`;
      const answer = await submitSubmission(
        submission(key, { platform_run_id: MISSING_PRID, engine_run_root: missingRoot }),
        {
          authority: postgresRunAuthority(pool),
          artifacts: s3RunArtifactStore(s3, PLATFORM_BUCKET),
          world: oracleWorldReader(s3, { allowFileRoots: false }),
          bus: kinesisControlBus(kinesis, CONTROL_BUS),
          clock: systemClock,
        },
        (platformRunId) => scenarioRunnerSettings(sr, platformRunId),
      );
      expect(answer).toMatchObject({
        run_id: runIdOf(key),
        state: 'FAILED',
        reason_code: 'EVIDENCE_MISSING_DEADLINE',
        disposition: 'LEADER',
      });
      const status = (await platformJson(`${MISSING_PRID}/sr/run_status/${runIdOf(key)}.json`)) as {
        state: string;
        reason_code: string;
      };
      expect(status).toMatchObject({ state: 'FAILED', reason_code: 'EVIDENCE_MISSING_DEADLINE' });
      expect(await recordsOf(runIdOf(key))).toHaveLength(0);

      // Over HTTP the finished run is answered as it is.
      const again = await post(
        submission(key, { platform_run_id: MISSING_PRID, engine_run_root: missingRoot }),
      );
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({
        state: 'FAILED',
        reason_code: 'EVIDENCE_MISSING_DEADLINE',
        disposition: 'EXISTING',
      });
      // The lease was released at the end of each submission.
      const leases = await pool.query('SELECT count(*)::int AS n FROM sr_run_leases WHERE run_id = $1', [
        runIdOf(key),
      ]);
      expect(leases.rows[0]?.n).toBe(0);
    } finally {
      await pool.end();
    }
  });
});
