import { describe, expect, it } from 'vitest';
import {
  executionName,
  handleReady,
  type ReadyDeps,
  runIdentityCheck,
} from '../../../lib/world-streamer/ready-consumer.ts';
import { defaultSettings } from '../../../lib/world-streamer/settings.ts';
import { memoryGovernance, memoryReadyRuns, memoryStarter, virtualTime } from './fakes.ts';
import { sha } from './stream-fixture.ts';

const MF = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const PH = 'fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210';
const PRID = 'platform_20260101T000000Z';
const SRID = 'e4f2285913cc771d0d8dd1ad475f7a01';
const BUNDLE = '32b531dc0062c4b95d637a8fdc9db7fabe7f266aaef88fd638283050fc37c305';
const MESSAGE_ID = '675193875cd981111f5f0f36a98984d7f5ad47a4676e3dff5b83a79f9cf2c96e';
const ENGINE_ROOT = 's3://oracle-store/local_full_run-5/c25a2675fbfbacd952b13bb594880e92';
const DIGEST = 'c7f6da0172c57228940231844b9a6c4457aa809fc7929ff72ca5512197d0c412';

const ready = {
  run_id: SRID,
  platform_run_id: PRID,
  scenario_run_id: SRID,
  facts_view_ref: `${PRID}/sr/run_facts_view/${SRID}.json`,
  bundle_hash: BUNDLE,
  message_id: MESSAGE_ID,
  run_config_digest: DIGEST,
  manifest_fingerprint: MF,
  parameter_hash: PH,
  scenario_id: 'baseline_v1',
};

const facts = {
  run_id: SRID,
  platform_run_id: PRID,
  scenario_run_id: SRID,
  pins: {
    manifest_fingerprint: MF,
    parameter_hash: PH,
    seed: 42,
    scenario_id: 'baseline_v1',
    run_id: SRID,
    platform_run_id: PRID,
    scenario_run_id: SRID,
  },
  locators: [],
  output_roles: { s3_event_stream_with_fraud_6B: 'business_traffic' },
  intended_outputs: ['s3_event_stream_with_fraud_6B'],
  gate_receipts: [],
  policy_rev: { policy_id: 'sr_policy', revision: 'v0-local', content_digest: DIGEST },
  bundle_hash: BUNDLE,
  run_config_digest: DIGEST,
  service_release_id: 'dev-local',
  environment: 'local_parity',
  provenance: { service_release_id: 'dev-local', environment: 'local_parity' },
  plan_ref: `${PRID}/sr/run_plan/${SRID}.json`,
  record_ref: `${PRID}/sr/run_record/${SRID}.jsonl`,
  status_ref: `${PRID}/sr/run_status/${SRID}.json`,
  oracle_pack_ref: { engine_run_root: ENGINE_ROOT, scenario_id: 'baseline_v1' },
};

function harness(
  options: {
    facts?: unknown;
    active?: string;
    readyRuns?: Record<string, { status: string; attempt: number }>;
  } = {},
) {
  const time = virtualTime();
  const readyRuns = memoryReadyRuns(options.readyRuns);
  const governance = memoryGovernance();
  const starter = memoryStarter();
  const factsReads: string[] = [];
  const deps: ReadyDeps = {
    readyRuns: readyRuns.store,
    facts: {
      read: async (ref) => {
        factsReads.push(ref);
        return 'facts' in options ? options.facts : facts;
      },
    },
    activeRun: { activePlatformRunId: async () => options.active },
    starter: starter.starter,
    governance: governance.sink,
    clock: time.clock,
  };
  return { deps, readyRuns, governance, starter, factsReads };
}

const SETTINGS = defaultSettings();
const govId = (family: string, key: string) =>
  sha(`${family}|${PRID}|${SRID}|world_streamer_producer|${key}`);

describe('READY handling (control-ingress.md §4.1)', () => {
  it('a new READY starts the stream-run execution named by its message_id, with RUN_READY_SEEN and RUN_STARTED', async () => {
    const h = harness();
    const outcome = await handleReady(h.deps, ready, SETTINGS);
    const input = {
      message_id: MESSAGE_ID,
      run_id: SRID,
      platform_run_id: PRID,
      scenario_run_id: SRID,
      scenario_id: 'baseline_v1',
      engine_run_root: ENGINE_ROOT,
      session_id: MESSAGE_ID,
    };
    expect(outcome).toEqual({
      status: 'STARTED',
      messageId: MESSAGE_ID,
      executionName: MESSAGE_ID,
      input,
      started: true,
    });
    expect(h.starter.executions.get(MESSAGE_ID)).toEqual(input);
    expect(h.factsReads).toEqual([ready.facts_view_ref]);
    expect([...h.governance.events.keys()]).toEqual([
      govId('RUN_READY_SEEN', `ready_seen:${MESSAGE_ID}`),
      govId('RUN_STARTED', `started:${MESSAGE_ID}`),
    ]);
    expect(h.governance.events.get(govId('RUN_READY_SEEN', `ready_seen:${MESSAGE_ID}`))).toMatchObject({
      event_family: 'RUN_READY_SEEN',
      ts_utc: '2026-01-01T00:00:00+00:00',
      actor: {
        actor_id: 'svc:wsp_ready_consumer',
        source_type: 'SYSTEM',
        source_component: 'world_streamer_producer',
      },
      pins: {
        platform_run_id: PRID,
        scenario_run_id: SRID,
        manifest_fingerprint: MF,
        parameter_hash: PH,
        seed: '42',
        scenario_id: 'baseline_v1',
      },
      provenance: { service_release_id: 'dev-local', environment: 'local_parity' },
      details: { message_id: MESSAGE_ID, bundle_hash: BUNDLE },
    });
    expect(h.readyRuns.lines).toEqual([]);
  });

  it('a redelivery while the attempt runs starts the same execution again (idempotent), nothing new', async () => {
    const h = harness();
    await handleReady(h.deps, ready, SETTINGS);
    const again = await handleReady(h.deps, ready, SETTINGS);
    expect(again).toMatchObject({ status: 'STARTED', executionName: MESSAGE_ID, started: true });
    expect(h.starter.executions.size).toBe(1);
    expect(h.governance.events.size).toBe(2);
    expect(h.readyRuns.lines).toEqual([]);
  });

  it('a redelivery after the attempt ended without recording a result (a crash): that attempt FAILED, attempt 2 starts', async () => {
    const h = harness();
    await handleReady(h.deps, ready, SETTINGS);
    h.starter.end(MESSAGE_ID); // the execution failed before its finish step could record anything
    const again = await handleReady(h.deps, ready, SETTINGS);
    expect(again).toMatchObject({
      status: 'STARTED',
      executionName: `${MESSAGE_ID}-2`,
      started: true,
      input: { session_id: `${MESSAGE_ID}-2` },
    });
    expect([...h.starter.executions.keys()]).toEqual([MESSAGE_ID, `${MESSAGE_ID}-2`]);
    expect(h.readyRuns.lines.map((l) => [l.status, l.reason])).toEqual([['FAILED', 'STREAM_FAILED']]);
    expect(h.readyRuns.state.get(MESSAGE_ID)).toEqual({ status: 'IN_PROGRESS', attempt: 2 });
    expect(h.governance.events.get(govId('RUN_ENDED', `ended:${MESSAGE_ID}`))).toMatchObject({
      details: { session_id: MESSAGE_ID, status: 'FAILED', reason: 'STREAM_FAILED' },
    });
    expect(h.governance.events.has(govId('RUN_STARTED', `started:${MESSAGE_ID}-2`))).toBe(true);
    // …and a READY that turned final meanwhile is a duplicate, with nothing recorded.
    const late = harness({ readyRuns: { [MESSAGE_ID]: { status: 'IN_PROGRESS', attempt: 1 } } });
    late.starter.end(MESSAGE_ID);
    const claim = late.deps.readyRuns.claim.bind(late.deps.readyRuns);
    let claims = 0;
    late.deps.readyRuns.claim = async (id, at) => {
      claims += 1;
      if (claims === 2) late.readyRuns.state.set(MESSAGE_ID, { status: 'STREAMED', attempt: 1 });
      return claim(id, at);
    };
    expect(await handleReady(late.deps, ready, SETTINGS)).toEqual({
      status: 'SKIPPED_DUPLICATE',
      messageId: MESSAGE_ID,
    });
    expect(late.readyRuns.lines).toEqual([]);
  });

  it('spec §9 check 10: a READY already STREAMED → SKIPPED_DUPLICATE, no facts read, no start, nothing appended', async () => {
    const h = harness({ readyRuns: { [MESSAGE_ID]: { status: 'STREAMED', attempt: 1 } } });
    expect(await handleReady(h.deps, ready, SETTINGS)).toEqual({
      status: 'SKIPPED_DUPLICATE',
      messageId: MESSAGE_ID,
    });
    expect(h.factsReads).toEqual([]);
    expect(h.starter.executions.size).toBe(0);
    expect(h.readyRuns.lines).toEqual([]);
    expect(h.governance.events.size).toBe(0);
  });

  it('spec §9 check 10: another active platform run → SKIPPED_OUT_OF_SCOPE (final) + RUN_CANCELLED', async () => {
    const h = harness({ active: 'platform_20260102T000000Z' });
    expect(await handleReady(h.deps, ready, SETTINGS)).toMatchObject({
      status: 'SKIPPED_OUT_OF_SCOPE',
      reason: 'PLATFORM_RUN_SCOPE_MISMATCH',
    });
    expect(h.starter.executions.size).toBe(0);
    expect(h.readyRuns.lines).toEqual([
      {
        message_id: MESSAGE_ID,
        run_id: SRID,
        status: 'SKIPPED_OUT_OF_SCOPE',
        reason: 'PLATFORM_RUN_SCOPE_MISMATCH',
        emitted: null,
        engine_run_root: null,
        scenario_id: null,
        ts_utc: '2026-01-01T00:00:00+00:00',
      },
    ]);
    expect(h.governance.families()).toEqual(['RUN_CANCELLED']);
    expect(h.governance.events.has(govId('RUN_CANCELLED', `cancelled:${MESSAGE_ID}:scope_mismatch`))).toBe(
      true,
    );
    expect(await handleReady(h.deps, ready, SETTINGS)).toMatchObject({ status: 'SKIPPED_DUPLICATE' });
    expect(await handleReady(harness({ active: PRID }).deps, ready, SETTINGS)).toMatchObject({
      status: 'STARTED',
    });
  });

  it('spec §9 check 10: scenario_run_id mismatch → FAILED, recorded, retried as attempt 2 on the next delivery', async () => {
    const other = 'a'.repeat(32);
    const h = harness({
      facts: {
        ...facts,
        run_id: other,
        scenario_run_id: other,
        pins: { ...facts.pins, run_id: other, scenario_run_id: other },
      },
    });
    expect(await handleReady(h.deps, ready, SETTINGS)).toEqual({
      status: 'FAILED',
      messageId: MESSAGE_ID,
      reason: 'SCENARIO_RUN_ID_MISMATCH',
    });
    expect(h.readyRuns.lines.map((l) => [l.status, l.reason])).toEqual([
      ['FAILED', 'SCENARIO_RUN_ID_MISMATCH'],
    ]);
    expect(h.starter.executions.size).toBe(0);
    const retry = harness({ readyRuns: { [MESSAGE_ID]: { status: 'FAILED', attempt: 1 } } });
    expect(await handleReady(retry.deps, ready, SETTINGS)).toMatchObject({
      status: 'STARTED',
      executionName: `${MESSAGE_ID}-2`,
    });
    expect(executionName(MESSAGE_ID, 1)).toBe(MESSAGE_ID);
  });

  it.each([
    ['absent facts', undefined],
    ['facts failing the schema', { ...facts, extra: 1 }],
  ])('%s → FAILED RUN_FACTS_INVALID', async (_, value) => {
    const h = harness({ facts: value });
    expect(await handleReady(h.deps, ready, SETTINGS)).toMatchObject({
      status: 'FAILED',
      reason: 'RUN_FACTS_INVALID',
    });
  });

  it('no engine run root in the READY, the facts or the wiring → ENGINE_ROOT_MISSING; the wiring wins when set', async () => {
    const { oracle_pack_ref: _, ...bare } = facts;
    const h = harness({ facts: bare });
    expect(await handleReady(h.deps, ready, SETTINGS)).toMatchObject({
      status: 'FAILED',
      reason: 'ENGINE_ROOT_MISSING',
    });
    expect(h.readyRuns.lines[0]?.scenario_id).toBe('baseline_v1');
    const wired = harness();
    const outcome = await handleReady(
      wired.deps,
      ready,
      defaultSettings({ engineRunRootOverride: 's3://wired/root' }),
    );
    expect(outcome.status === 'STARTED' && outcome.input.engine_run_root).toBe('s3://wired/root');
  });

  it('identity check: READY vs facts platform and scenario run ids, facts falling back to pins then run_id', () => {
    const r = { platform_run_id: PRID, scenario_run_id: SRID };
    expect(runIdentityCheck(r, { platform_run_id: PRID, scenario_run_id: SRID })).toBeUndefined();
    expect(runIdentityCheck(r, { pins: { platform_run_id: PRID }, run_id: SRID })).toBeUndefined();
    expect(runIdentityCheck(r, { scenario_run_id: SRID })).toBe('PLATFORM_RUN_ID_MISSING');
    expect(runIdentityCheck(r, { platform_run_id: 'platform_20260102T000000Z' })).toBe(
      'PLATFORM_RUN_ID_MISMATCH',
    );
    expect(runIdentityCheck({ platform_run_id: PRID }, { platform_run_id: PRID, run_id: SRID })).toBe(
      'SCENARIO_RUN_ID_MISSING',
    );
    expect(runIdentityCheck(r, { platform_run_id: PRID })).toBe('SCENARIO_RUN_ID_MISSING');
  });
});
