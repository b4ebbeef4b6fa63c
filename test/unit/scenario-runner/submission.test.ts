import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import {
  PARITY_POLICY_CONTENT_DIGEST,
  ScenarioRunnerEnvironment,
  scenarioRunnerSettings,
} from '../../../lib/runtime/scenario-runner-config.ts';
import { handleRunsRequest, type RunsApiDependencies } from '../../../lib/scenario-runner/http-api.ts';
import { submitSubmission } from '../../../lib/scenario-runner/submission.ts';
import { flagKey, MF, PH, SEED } from '../oracle-store/world-builder.ts';
import type { FakePorts } from './fakes.ts';
import { ENGINE_ROOT, PARITY_RUN_ID, PRID, parityPorts, request, settings } from './scenario.ts';

/** The submission shape (RunRequest + platform_run_id, world key from run_receipt.json) and the HTTP answers. */

const settingsFor = (platformRunId: string) =>
  settings({ wiring: { platform_run_id: platformRunId } as Record<string, unknown> });

function api(ports: FakePorts): RunsApiDependencies {
  return {
    apiKeys: async () => [{ principal: 'scenario_submitter', key: 'local-parity-sr' }],
    maxRequestBytes: 4096,
    submit: (input) => submitSubmission(input, ports, settingsFor),
  };
}

const post = (deps: RunsApiDependencies, body: unknown, key: string | null = 'local-parity-sr') =>
  handleRunsRequest(
    {
      method: 'POST',
      path: '/v1/runs',
      headers: key === null ? {} : { 'x-sr-api-key': key },
      body: typeof body === 'string' ? body : canonicalJson(body),
    },
    deps,
  );

describe('submission', () => {
  it('reads the world key from run_receipt.json when it is left out, and re-submits to the same run', async () => {
    const ports = await parityPorts();
    const { manifest_fingerprint, parameter_hash, seed, ...withoutKey } = request();
    const first = await submitSubmission({ platform_run_id: PRID, ...withoutKey }, ports, settingsFor);
    expect(first).toMatchObject({ run_id: PARITY_RUN_ID, state: 'READY', platform_run_id: PRID });
    const again = await submitSubmission(
      { platform_run_id: PRID, ...request({ seed: String(SEED) }) },
      ports,
      settingsFor,
    );
    expect(again).toMatchObject({ run_id: PARITY_RUN_ID, state: 'READY', disposition: 'EXISTING' });
    expect(ports.bus.records).toHaveLength(1);
    expect([manifest_fingerprint, parameter_hash, seed]).toEqual([MF, PH, SEED]);
  });

  it('refuses a partial world key, and a missing one without a readable receipt', async () => {
    const ports = await parityPorts();
    const { parameter_hash, seed, ...partial } = request();
    await expect(submitSubmission({ platform_run_id: PRID, ...partial }, ports, settingsFor)).rejects.toThrow(
      /RUN_REQUEST_INVALID: manifest_fingerprint: give manifest_fingerprint, parameter_hash and seed together/,
    );
    const { manifest_fingerprint, ...noKey } = partial;
    await expect(
      submitSubmission(
        { platform_run_id: PRID, ...noKey, engine_run_root: 's3://oracle-store/nothing-here' },
        ports,
        settingsFor,
      ),
    ).rejects.toThrow(/RUN_REQUEST_INVALID: no world key given and s3:\/\/oracle-store\/nothing-here/);
    expect([parameter_hash, seed, manifest_fingerprint]).toEqual([PH, SEED, MF]);
  });
});

describe('POST /v1/runs', () => {
  it('200 with the status when terminal; 401 without a valid key', async () => {
    const deps = api(await parityPorts());
    const ok = await post(deps, { platform_run_id: PRID, ...request() });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toMatchObject({ state: 'READY', disposition: 'LEADER' });
    expect(await post(deps, { platform_run_id: PRID, ...request() }, null)).toEqual({
      statusCode: 401,
      body: { error: 'UNAUTHORIZED', detail: null },
    });
    expect((await post(deps, {}, 'wrong')).statusCode).toBe(401);
  });

  it('202 while evidence is missing before the deadline', async () => {
    const ports = await parityPorts();
    await ports.world.worlds.get(ENGINE_ROOT)?.delete(flagKey('6B'));
    const waiting = await post(api(ports), { platform_run_id: PRID, ...request() });
    expect(waiting.statusCode).toBe(202);
    expect(waiting.body).toMatchObject({ state: 'WAITING_EVIDENCE', reason_code: 'EVIDENCE_WAITING' });
  });

  it('4xx with a reason code: bad JSON, bad fields, too large, key collision, unknown route', async () => {
    const deps = api(await parityPorts());
    expect((await post(deps, '{')).body).toMatchObject({ error: 'INVALID_JSON' });
    const invalid = await post(deps, { platform_run_id: PRID, ...request({ window: undefined }) });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toMatchObject({ error: 'RUN_REQUEST_INVALID' });
    expect((await post(deps, [1, 2])).body).toMatchObject({ error: 'RUN_REQUEST_INVALID' });
    expect((await post(deps, { platform_run_id: 'x', ...request() })).statusCode).toBe(400);
    const large = await post(deps, { platform_run_id: PRID, ...request({ notes: 'n'.repeat(5000) }) });
    expect(large).toMatchObject({ statusCode: 413, body: { error: 'PAYLOAD_TOO_LARGE' } });

    await post(deps, { platform_run_id: PRID, ...request() });
    const collision = await post(deps, { platform_run_id: PRID, ...request({ seed: 43 }) });
    expect(collision).toMatchObject({ statusCode: 409, body: { error: 'EQUIV_KEY_COLLISION' } });

    const route = await handleRunsRequest(
      { method: 'GET', path: '/v1/runs', headers: { 'x-sr-api-key': 'local-parity-sr' }, body: undefined },
      deps,
    );
    expect(route).toMatchObject({ statusCode: 404, body: { error: 'ROUTE_NOT_FOUND' } });
  });
});

describe('scenario runner environment', () => {
  it('defaults to the parity policy and wiring; the platform run comes per submission', () => {
    const env = ScenarioRunnerEnvironment.parse({ SR_API_KEYS: 'local-parity-sr' });
    const s = scenarioRunnerSettings(env, PRID);
    expect(s.policy).toEqual({
      policy_id: 'sr_policy',
      revision: 'v0-local',
      content_digest: PARITY_POLICY_CONTENT_DIGEST,
      reuse_policy: 'ALLOW',
      evidence_wait_seconds: 600,
      attempt_limit: 1,
      traffic_output_ids: ['s2_event_stream_baseline_6B', 's3_event_stream_with_fraud_6B'],
      gate_digest_mismatch: 'QUARANTINE',
    });
    expect(s.wiring).toMatchObject({
      platform_run_id: PRID,
      environment: 'local_parity',
      service_release_id: 'dev-local',
      lease_owner: 'sr-local',
      lease_ttl_seconds: 300,
      auth_mode: 'disabled',
    });
  });

  it('refuses to start without keys and names a bad value', () => {
    expect(ScenarioRunnerEnvironment.safeParse({}).success).toBe(false);
    expect(
      ScenarioRunnerEnvironment.safeParse({ SR_API_KEYS: 'k', SR_EVIDENCE_WAIT_SECONDS: '-1' }).success,
    ).toBe(false);
    const env = ScenarioRunnerEnvironment.parse({
      SR_API_KEYS_SSM_PARAMETER: '/fraud-platform/dev/sr-api-keys',
      SR_EVIDENCE_WAIT_SECONDS: '0',
      SR_TRAFFIC_OUTPUT_IDS: 's3_event_stream_with_fraud_6B',
      SCENARIO_RUNNER_SERVICE_RELEASE_ID: 'release-7',
    });
    const s = scenarioRunnerSettings(env, PRID);
    expect(s.policy.evidence_wait_seconds).toBe(0);
    expect(s.policy.traffic_output_ids).toEqual(['s3_event_stream_with_fraud_6B']);
    expect(s.wiring.service_release_id).toBe('release-7');
  });
});
