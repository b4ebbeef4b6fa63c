import { describe, expect, it } from 'vitest';
import { catalogueOf, ENGINE_CATALOGUE } from '../../../lib/oracle-store/interface-pack.ts';
import type { DeletableObjectStore } from '../../../lib/oracle-store/object-store.ts';
import { submitRun } from '../../../lib/scenario-runner/submit.ts';
import { buildWorld, MF, PH, RUN_ID } from '../oracle-store/world-builder.ts';
import { FakeEngine, fakePorts } from './fakes.ts';
import {
  ENGINE_ROOT,
  PARITY_RUN_ID,
  PRID,
  parityPorts,
  recordKinds,
  request,
  settings,
  status,
} from './scenario.ts';

/** Every reason code of §3 reached through `submitRun` with in-memory ports. */

const terminal = async (
  ports: Awaited<ReturnType<typeof parityPorts>>,
  body: Record<string, unknown> = request(),
  config = settings(),
) => submitRun(body, ports, config);

describe('refusals before any status', () => {
  it('AUTH_DENIED: allowlist without the invoker → FAILED "Unauthorized.", a record, no status', async () => {
    const ports = await parityPorts();
    const answer = await terminal(
      ports,
      request({ invoker: 'mallory' }),
      settings({ wiring: { auth_mode: 'allowlist', allowed_invokers: ['ops'] } }),
    );
    expect(answer).toMatchObject({ state: 'FAILED', reason_code: 'AUTH_DENIED', message: 'Unauthorized.' });
    expect(recordKinds(ports)).toEqual(['AUTH_DENIED']);
    expect(status(ports)).toBeUndefined();
    const allowed = await terminal(
      ports,
      request({ invoker: 'ops' }),
      settings({ wiring: { auth_mode: 'allowlist', allowed_invokers: ['ops'] } }),
    );
    expect(allowed.state).toBe('READY');
  });

  it('EQUIV_KEY_COLLISION (§9.1): the same key with another seed or window', async () => {
    const ports = await parityPorts();
    await terminal(ports);
    await expect(terminal(ports, request({ seed: 43 }))).rejects.toThrow(/^EQUIV_KEY_COLLISION/);
    await expect(
      terminal(
        ports,
        request({
          window: { window_start_utc: '2026-01-01T00:00:00Z', window_end_utc: '2026-01-03T00:00:00Z' },
        }),
      ),
    ).rejects.toThrow(/^EQUIV_KEY_COLLISION/);
  });
});

describe('plan failures (§3.3 step 2)', () => {
  it('UNKNOWN_OUTPUT_ID → FAILED "Run failed."', async () => {
    const ports = await parityPorts();
    const answer = await terminal(ports, request({ output_ids: ['no_such_output'] }));
    expect(answer).toMatchObject({
      state: 'FAILED',
      reason_code: 'UNKNOWN_OUTPUT_ID',
      message: 'Run failed.',
    });
    expect(recordKinds(ports)).toEqual(['RUN_ACCEPTED', 'EVIDENCE_FAIL']);
    expect(ports.authority.leases.size).toBe(0);
  });

  it('UNKNOWN_GATE_ID: an output whose read_requires_gates names a gate the map lacks', async () => {
    const ports = await parityPorts();
    const fraud = ENGINE_CATALOGUE.byId.get('s3_event_stream_with_fraud_6B');
    if (!fraud) throw new Error('catalogue lacks the fraud stream');
    const catalogue = catalogueOf([{ ...fraud, read_requires_gates: ['gate.layer9.9Z.validation'] }]);
    const answer = await submitRun(
      request({ output_ids: ['s3_event_stream_with_fraud_6B'] }),
      ports,
      settings(),
      { catalogue },
    );
    expect(answer).toMatchObject({ state: 'FAILED', reason_code: 'UNKNOWN_GATE_ID' });
  });
});

describe('reuse failures (§3.3 step 3)', () => {
  it('ENGINE_ROOT_MISSING: no root in the request, or nothing stored there', async () => {
    const ports = await parityPorts();
    const { engine_run_root: _, ...withoutRoot } = request();
    expect(await terminal(ports, withoutRoot)).toMatchObject({
      state: 'FAILED',
      reason_code: 'ENGINE_ROOT_MISSING',
      message: 'Reuse evidence failed.',
    });
    const other = await parityPorts();
    expect(await terminal(other, request({ engine_run_root: 's3://oracle-store/nowhere' }))).toMatchObject({
      reason_code: 'ENGINE_ROOT_MISSING',
    });
  });

  it('the wiring root overrides the request root', async () => {
    const ports = await parityPorts();
    const answer = await terminal(
      ports,
      request({ engine_run_root: 's3://oracle-store/nowhere' }),
      settings({ wiring: { oracle_engine_run_root: ENGINE_ROOT } }),
    );
    expect(answer.state).toBe('READY');
  });

  it.each([
    ['ENGINE_RECEIPT_MISSING', async (w: DeletableObjectStore) => w.delete('run_receipt.json')],
    [
      'ENGINE_RECEIPT_INVALID',
      async (w: DeletableObjectStore) => w.put('run_receipt.json', '{"run_id": "short"}'),
    ],
    [
      'ENGINE_RECEIPT_MISMATCH',
      async (w: DeletableObjectStore) =>
        w.put(
          'run_receipt.json',
          `{"run_id": "${RUN_ID}", "manifest_fingerprint": "${MF}", "parameter_hash": "${PH}", "seed": 7}`,
        ),
    ],
  ])('%s: the reused world receipt is absent, invalid or for another world', async (code, damage) => {
    const ports = await parityPorts();
    const world = await ports.world.open(ENGINE_ROOT);
    if (!world) throw new Error('no world');
    await damage(world);
    expect(await terminal(ports)).toMatchObject({ state: 'FAILED', reason_code: code });
  });
});

describe('invoke (§3.3 step 4)', () => {
  const engineBuilding = (ports: ReturnType<typeof fakePorts>, complete = true) =>
    new FakeEngine(async (invocation) => {
      const store = ports.world.add(invocation.engine_run_root ?? ENGINE_ROOT);
      await buildWorld(store, {
        runReceipt: `{"run_id": "${invocation.run_id}", "manifest_fingerprint": "${MF}", "parameter_hash": "${PH}", "seed": 42}`,
        ...(complete ? {} : { withoutFlags: ['6B'] as const }),
      });
      return { outcome: 'SUCCEEDED', stdout: 'engine ran\n' };
    });

  it('FORCE_INVOKE: the engine builds the world with SR run_id → READY; logs kept', async () => {
    const holder = fakePorts();
    const ports = { ...holder, engine: engineBuilding(holder) };
    const answer = await submitRun(request({ requested_strategy: 'FORCE_INVOKE' }), ports, settings());
    expect(answer.state).toBe('READY');
    expect(recordKinds(holder)).toContain('ENGINE_ATTEMPT_FINISHED');
    expect(
      holder.artifacts.text(`${PRID}/sr/engine_attempt_logs/run_id=${PARITY_RUN_ID}/attempt_no=1/stdout.log`),
    ).toBe('engine ran\n');
  });

  it('ENGINE_RECEIPT_MISMATCH: the engine wrote a receipt for another run_id', async () => {
    const holder = fakePorts();
    const engine = new FakeEngine(async () => {
      await buildWorld(holder.world.add(ENGINE_ROOT));
      return { outcome: 'SUCCEEDED' };
    });
    const answer = await submitRun(
      request({ requested_strategy: 'FORCE_INVOKE' }),
      { ...holder, engine },
      settings(),
    );
    expect(answer).toMatchObject({
      state: 'FAILED',
      reason_code: 'ENGINE_RECEIPT_MISMATCH',
      message: 'Engine attempt failed.',
    });
  });

  it('ENGINE_FAILED: the engine reports failure, or none is configured', async () => {
    const holder = fakePorts();
    const engine = new FakeEngine(async () => ({ outcome: 'FAILED', reason_code: 'ENGINE_CRASHED' }));
    const answer = await submitRun(
      request({ requested_strategy: 'FORCE_INVOKE' }),
      { ...holder, engine },
      settings(),
    );
    expect(answer).toMatchObject({ state: 'FAILED', reason_code: 'ENGINE_FAILED' });
    const none = await submitRun(request({ requested_strategy: 'FORCE_INVOKE' }), fakePorts(), settings());
    expect(none).toMatchObject({ state: 'FAILED', reason_code: 'ENGINE_FAILED' });
  });

  it('ENGINE_INVOCATION_INVALID: a request_id longer than the invocation schema allows', async () => {
    const holder = fakePorts();
    const engine = engineBuilding(holder);
    const answer = await submitRun(
      request({ requested_strategy: 'FORCE_INVOKE', request_id: 'r'.repeat(129) }),
      { ...holder, engine },
      settings(),
    );
    expect(answer).toMatchObject({ state: 'FAILED', reason_code: 'ENGINE_INVOCATION_INVALID' });
    expect(engine.invocations).toHaveLength(0);
  });

  it('ATTEMPT_LIMIT_EXCEEDED: a waiting invoked run re-submitted with attempt_limit 1', async () => {
    const holder = fakePorts();
    const ports = { ...holder, engine: engineBuilding(holder, false) };
    const first = await submitRun(request({ requested_strategy: 'FORCE_INVOKE' }), ports, settings());
    expect(first.state).toBe('WAITING_EVIDENCE');
    const second = await submitRun(request({ requested_strategy: 'FORCE_INVOKE' }), ports, settings());
    expect(second).toMatchObject({ state: 'FAILED', reason_code: 'ATTEMPT_LIMIT_EXCEEDED' });
  });

  it('reuse_policy other than ALLOW forces FORCE_INVOKE', async () => {
    const holder = fakePorts();
    const engine = engineBuilding(holder);
    await submitRun(request(), { ...holder, engine }, settings({ policy: { reuse_policy: 'DENY' } }));
    expect(engine.invocations).toHaveLength(1);
  });
});
