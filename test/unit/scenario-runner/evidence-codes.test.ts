import { describe, expect, it } from 'vitest';
import type { DeletableObjectStore } from '../../../lib/oracle-store/object-store.ts';
import { sealPack } from '../../../lib/oracle-store/seal.ts';
import { submitRun } from '../../../lib/scenario-runner/submit.ts';
import { memoryObjectStore } from '../oracle-store/memory-object-store.ts';
import { buildWorld, bundleRoot, flagKey, MF, PH, RUN_ID } from '../oracle-store/world-builder.ts';
import { fakePorts } from './fakes.ts';
import {
  ENGINE_ROOT,
  PARITY_RUN_ID,
  PRID,
  parityPorts,
  recordKinds,
  request,
  settings,
  srKey,
  status,
} from './scenario.ts';

/** Every reason code of §3 reached through `submitRun` with in-memory ports. */

const terminal = async (
  ports: Awaited<ReturnType<typeof parityPorts>>,
  body: Record<string, unknown> = request(),
  config = settings(),
) => submitRun(body, ports, config);

// Reason codes of evidence, instance receipts, READY and the authority (the earlier steps: reason-codes.test.ts).
describe('evidence (§3.3 step 5, §9.4)', () => {
  it('EVIDENCE_WAITING then READY: a missing 6B flag waits; once written, a re-submit resumes the plan', async () => {
    const holder = fakePorts();
    const world = holder.world.add(ENGINE_ROOT);
    const gates = await buildWorld(world, { withoutFlags: ['6B'] });
    const first = await terminal(holder);
    expect(first).toMatchObject({
      state: 'WAITING_EVIDENCE',
      reason_code: 'EVIDENCE_WAITING',
      message: 'Evidence incomplete; waiting.',
    });
    expect(holder.authority.leases.size).toBe(0);
    const plan = holder.artifacts.text(srKey('run_plan'));
    await world.put(flagKey('6B'), gates['6B'].flag);
    holder.clock.advance(60);
    const second = await terminal(holder);
    expect(second).toMatchObject({ state: 'READY', disposition: 'LEADER' });
    expect(holder.artifacts.text(srKey('run_plan'))).toBe(plan);
  });

  it('EVIDENCE_MISSING_DEADLINE: wait 0 fails at once; a waiting run re-submitted after its deadline fails', async () => {
    const a = fakePorts();
    await buildWorld(a.world.add(ENGINE_ROOT), { withoutFlags: ['6B'] });
    expect(await terminal(a, request(), settings({ policy: { evidence_wait_seconds: 0 } }))).toMatchObject({
      state: 'FAILED',
      reason_code: 'EVIDENCE_MISSING_DEADLINE',
    });
    const b = fakePorts();
    await buildWorld(b.world.add(ENGINE_ROOT), { withoutFlags: ['6B'] });
    await terminal(b);
    b.clock.advance(601);
    expect(await terminal(b)).toMatchObject({ state: 'FAILED', reason_code: 'EVIDENCE_MISSING_DEADLINE' });
  });

  it('EVIDENCE_CONFLICT: a tampered bundle file → QUARANTINED + sr/quarantine/{id}.json', async () => {
    const ports = await parityPorts();
    const world = await ports.world.open(ENGINE_ROOT);
    await world?.put(`${bundleRoot('6B')}s5_validation_report_6B.json`, 'tampered');
    const answer = await terminal(ports);
    expect(answer).toMatchObject({ state: 'QUARANTINED', reason_code: 'EVIDENCE_CONFLICT' });
    expect(ports.artifacts.json(srKey('quarantine'))).toMatchObject({
      run_id: PARITY_RUN_ID,
      reason: 'EVIDENCE_CONFLICT',
    });
    expect(recordKinds(ports)).toContain('EVIDENCE_CONFLICT');
    expect(ports.bus.records).toHaveLength(0);
  });

  it('EVIDENCE_CONFLICT: an unparseable flag', async () => {
    const ports = await parityPorts();
    const world = await ports.world.open(ENGINE_ROOT);
    await world?.put(flagKey('5B'), 'PASSED');
    expect(await terminal(ports)).toMatchObject({ state: 'QUARANTINED', reason_code: 'EVIDENCE_CONFLICT' });
  });

  it('GATE_FAIL: a digest mismatch under gate_digest_mismatch FAIL', async () => {
    const ports = await parityPorts();
    const world = await ports.world.open(ENGINE_ROOT);
    await world?.put(`${bundleRoot('6B')}s5_validation_report_6B.json`, 'tampered');
    const answer = await terminal(ports, request(), settings({ policy: { gate_digest_mismatch: 'FAIL' } }));
    expect(answer).toMatchObject({ state: 'FAILED', reason_code: 'GATE_FAIL' });
  });

  it('LOCATOR_SCHEMA_INVALID: a locator path beyond 2048 characters', async () => {
    const root = `s3://oracle-store/${'deep/'.repeat(400)}run`;
    const ports = fakePorts();
    await buildWorld(ports.world.add(root));
    expect(await terminal(ports, request({ engine_run_root: root }))).toMatchObject({
      state: 'FAILED',
      reason_code: 'LOCATOR_SCHEMA_INVALID',
    });
  });

  it('RECEIPT_SCHEMA_INVALID: gate receipt paths beyond 2048 characters', async () => {
    const root = `s3://oracle-store/${'deep/'.repeat(390)}run`;
    const ports = fakePorts();
    await buildWorld(ports.world.add(root), { outputs: [] });
    expect(await terminal(ports, request({ engine_run_root: root }))).toMatchObject({
      state: 'FAILED',
      reason_code: 'RECEIPT_SCHEMA_INVALID',
    });
  });
});

describe('instance receipts (§3.5, §9.5)', () => {
  it('INSTANCE_RECEIPT_DRIFT: a stored receipt that differs', async () => {
    const ports = await parityPorts();
    const key = `${PRID}/sr/instance_receipts/output_id=s3_event_stream_with_fraud_6B/manifest_fingerprint=${MF}/parameter_hash=${PH}/seed=42/scenario_id=baseline_v1/instance_receipt.json`;
    await ports.artifacts.overwrite(key, '{"output_id":"s3_event_stream_with_fraud_6B","status":"FAIL"}\n');
    expect(await terminal(ports)).toMatchObject({ state: 'FAILED', reason_code: 'INSTANCE_RECEIPT_DRIFT' });
  });

  it('a stored receipt equal but for produced_at_utc is accepted', async () => {
    const first = await parityPorts();
    await terminal(first);
    const key =
      first.artifacts.keys(`${PRID}/sr/instance_receipts/output_id=s3_event_stream_with_fraud_6B/`)[0] ?? '';
    const stored = first.artifacts.json(key) as Record<string, unknown>;
    const ports = await parityPorts();
    await ports.artifacts.overwrite(
      key,
      JSON.stringify({ ...stored, produced_at_utc: '2025-12-31T00:00:00.000000Z' }),
    );
    expect((await terminal(ports)).state).toBe('READY');
  });

  it('INSTANCE_DIGEST_MISSING: a listed part can no longer be read', async () => {
    const ports = fakePorts();
    const inner = memoryObjectStore(ENGINE_ROOT);
    await buildWorld(inner);
    const vanishing: DeletableObjectStore = {
      ...inner,
      get: async (key) => (key.endsWith('.parquet') ? undefined : inner.get(key)),
    };
    ports.world.add(ENGINE_ROOT, vanishing);
    expect(await terminal(ports)).toMatchObject({ state: 'FAILED', reason_code: 'INSTANCE_DIGEST_MISSING' });
  });

  it('INSTANCE_SCOPE_MISSING: an instance-scoped output partitioned by a token SR has no value for (utc_day)', async () => {
    const ports = await parityPorts();
    const world = await ports.world.open(ENGINE_ROOT);
    await world?.put(
      `data/layer1/2B/s5_selection_log/seed=42/parameter_hash=${PH}/run_id=${RUN_ID}/utc_day=2026-01-01/selection_log.jsonl`,
      '{}\n',
    );
    expect(await terminal(ports, request({ output_ids: ['s5_selection_log'] }))).toMatchObject({
      state: 'FAILED',
      reason_code: 'INSTANCE_SCOPE_MISSING',
    });
  });

  it('INSTANCE_RECEIPT_SCHEMA_INVALID: a scenario_id the receipt scope cannot hold (> 256)', async () => {
    const scenario = 's'.repeat(300);
    const ports = fakePorts();
    await buildWorld(ports.world.add(ENGINE_ROOT), { scenarios: [scenario] });
    expect(await terminal(ports, request({ scenario: { scenario_id: scenario } }))).toMatchObject({
      state: 'FAILED',
      reason_code: 'INSTANCE_RECEIPT_SCHEMA_INVALID',
    });
  });
});

describe('READY (§3.3 step 7, §3.6, §9.5)', () => {
  it('ORACLE_PACK_MISMATCH: a pack sealed for another scenario', async () => {
    const ports = await parityPorts();
    const world = await ports.world.open(ENGINE_ROOT);
    if (!world) throw new Error('no world');
    await sealPack(world, { scenarioId: 'other_scenario', engineRelease: 'r1', now: ports.clock.now() });
    expect(await terminal(ports)).toMatchObject({ state: 'FAILED', reason_code: 'ORACLE_PACK_MISMATCH' });
  });

  it('a pack sealed for this world gives the pack id in oracle_pack_ref', async () => {
    const ports = await parityPorts();
    const world = await ports.world.open(ENGINE_ROOT);
    if (!world) throw new Error('no world');
    const sealed = await sealPack(world, {
      scenarioId: 'baseline_v1',
      engineRelease: 'r1',
      now: ports.clock.now(),
    });
    await terminal(ports);
    const facts = ports.artifacts.json(srKey('run_facts_view')) as {
      oracle_pack_ref: Record<string, unknown>;
    };
    expect(facts.oracle_pack_ref).toMatchObject({
      oracle_pack_id: sealed.oracle_pack_id,
      engine_release: 'r1',
    });
  });

  it('ORACLE_PACK_INVALID: a manifest that fails its schema', async () => {
    const ports = await parityPorts();
    const world = await ports.world.open(ENGINE_ROOT);
    await world?.put('_oracle_pack_manifest.json', '{"version": "v0"}');
    expect(await terminal(ports)).toMatchObject({ state: 'FAILED', reason_code: 'ORACLE_PACK_INVALID' });
  });

  it('FACTS_VIEW_DRIFT: a different facts view already stored', async () => {
    const ports = await parityPorts();
    await ports.artifacts.overwrite(srKey('run_facts_view'), '{"run_id": "someone else"}\n');
    expect(await terminal(ports)).toMatchObject({ state: 'FAILED', reason_code: 'FACTS_VIEW_DRIFT' });
    expect(ports.bus.records).toHaveLength(0);
  });

  it('READY_SIGNAL_DRIFT: a different ready_signal already stored; the lease is still released', async () => {
    const ports = await parityPorts();
    await ports.artifacts.overwrite(srKey('ready_signal'), '{"run_id": "someone else"}\n');
    await expect(terminal(ports)).rejects.toThrow(/^READY_SIGNAL_DRIFT/);
    expect(ports.bus.records).toHaveLength(0);
    expect(ports.authority.leases.size).toBe(0);
  });

  it('READY_PUBLISH_FAILED: the run stays READY; a re-submit publishes the same message once', async () => {
    const ports = await parityPorts();
    ports.bus.failing = true;
    const first = await terminal(ports);
    expect(first).toMatchObject({ state: 'READY', message: 'READY committed; publish failed.' });
    expect(recordKinds(ports)).toContain('READY_PUBLISH_FAILED');
    ports.bus.failing = false;
    expect(await terminal(ports)).toMatchObject({
      state: 'READY',
      disposition: 'LEADER',
      message: 'READY published',
    });
    expect(await terminal(ports)).toMatchObject({ state: 'READY', disposition: 'EXISTING' });
    expect(ports.bus.records).toHaveLength(1);
    expect(recordKinds(ports).filter((k) => k === 'READY_COMMITTED')).toHaveLength(1);
  });
});

describe('authority and storage failures (§3.2, §0)', () => {
  it('PLAN_DRIFT: a waiting run re-submitted for other outputs; nothing changes', async () => {
    const ports = fakePorts();
    await buildWorld(ports.world.add(ENGINE_ROOT), { withoutFlags: ['6B'] });
    await terminal(ports);
    await expect(terminal(ports, request({ output_ids: ['s3_event_stream_with_fraud_6B'] }))).rejects.toThrow(
      /^PLAN_DRIFT/,
    );
    expect(status(ports)?.state).toBe('WAITING_EVIDENCE');
    expect(ports.authority.leases.size).toBe(0);
  });

  it('LEASE_LOST: the lease expires while evidence is read; the run is left as it was', async () => {
    const ports = fakePorts();
    const inner = memoryObjectStore(ENGINE_ROOT);
    await buildWorld(inner);
    const slow: DeletableObjectStore = {
      ...inner,
      get: async (key) => {
        if (key === '_oracle_pack_manifest.json') ports.clock.advance(301);
        return inner.get(key);
      },
    };
    ports.world.add(ENGINE_ROOT, slow);
    await expect(terminal(ports)).rejects.toThrow(/^LEASE_LOST/);
    expect(status(ports)?.state).toBe('PLANNED');
    expect(ports.bus.records).toHaveLength(0);
  });

  it('S3_APPEND_CONFLICT: five refused If-Match appends, with 50 ms × attempt backoff', async () => {
    const ports = await parityPorts();
    ports.artifacts.refuseConditionalReplace = true;
    await expect(terminal(ports)).rejects.toThrow(/^S3_APPEND_CONFLICT/);
    expect(ports.clock.sleeps).toEqual([50, 100, 150, 200]);
    expect(ports.authority.leases.size).toBe(0);
  });
});
