import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ControlBusRecord, ReadySignal, RunFactsView } from '../../../lib/contracts/ready.ts';
import { submitRun } from '../../../lib/scenario-runner/submit.ts';
import { PARQUET_BYTES, SCENARIO } from '../oracle-store/world-builder.ts';
import {
  ENGINE_ROOT,
  PARITY_RUN_ID,
  PRID,
  parityPorts,
  recordKinds,
  request,
  settings,
  sha,
  srKey,
} from './scenario.ts';

const shaBytes = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('submit: golden reuse (§9.2)', () => {
  it('AUTO on a lawful world → READY, a valid facts view, one READY on the bus with the message_id recipe', async () => {
    const ports = await parityPorts();
    const answer = await submitRun(request(), ports, settings());
    expect(answer).toMatchObject({
      run_id: PARITY_RUN_ID,
      state: 'READY',
      disposition: 'LEADER',
      message: 'READY committed',
      facts_view_ref: srKey('run_facts_view'),
      status_ref: srKey('run_status'),
      record_ref: srKey('run_record', 'jsonl'),
    });

    const facts = RunFactsView.parse(ports.artifacts.json(srKey('run_facts_view')));
    expect(facts.pins).toMatchObject({ scenario_id: SCENARIO, run_id: PARITY_RUN_ID, platform_run_id: PRID });
    expect(facts.intended_outputs).toEqual(['s2_event_stream_baseline_6B', 's3_event_stream_with_fraud_6B']);
    expect(facts.output_roles).toEqual({
      s2_event_stream_baseline_6B: 'business_traffic',
      s3_event_stream_with_fraud_6B: 'business_traffic',
    });
    expect(facts.gate_receipts.map((g) => g.status)).toEqual(Array(10).fill('PASS'));
    expect(facts.locators).toHaveLength(2);
    for (const locator of facts.locators) {
      // one part per output: the digest is the sha256 of its bytes
      expect(locator.content_digest?.hex).toBe(shaBytes(PARQUET_BYTES));
      expect(locator.path.startsWith(`${ENGINE_ROOT}/data/layer3/6B/`)).toBe(true);
      expect(locator.path.endsWith('/part-*.parquet')).toBe(true);
    }
    expect(facts.instance_receipts).toHaveLength(2);
    expect(facts.oracle_pack_ref).toEqual({
      engine_run_root: ENGINE_ROOT,
      scenario_id: SCENARIO,
      stream_view_root: `${ENGINE_ROOT}/stream_view/ts_utc`,
    });

    expect(ports.bus.records).toHaveLength(1);
    const record = ControlBusRecord.parse(JSON.parse(ports.bus.records[0]?.stream_record ?? '{}'));
    expect(record.partition_key).toBe(PARITY_RUN_ID);
    expect(record.message_id).toBe(sha(`ready|${PRID}|${PARITY_RUN_ID}|${facts.bundle_hash}`));
    // facts_view_ref resolves in the platform store
    expect(ports.artifacts.json(record.payload.facts_view_ref)).toEqual(
      ports.artifacts.json(srKey('run_facts_view')),
    );
    expect(ReadySignal.parse(ports.artifacts.json(srKey('ready_signal'))).message_id).toBe(record.message_id);

    expect(recordKinds(ports)).toEqual([
      'RUN_ACCEPTED',
      'PLAN_COMMITTED',
      'GOV_POLICY_REV',
      'GOV_PLAN_HASH',
      'READY_COMMITTED',
      'GOV_BUNDLE_HASH',
      'GOV_RUN_IDENTITY_SOURCES',
      'READY_PUBLISHED',
    ]);
    expect(
      ports.artifacts.keys(`${PRID}/sr/instance_receipts/output_id=s3_event_stream_with_fraud_6B/`),
    ).toHaveLength(1);
    // released at the end
    expect(ports.authority.leases.size).toBe(0);
  });
});

describe('submit: re-submit and concurrency (§9.3, §3.8)', () => {
  it('an equivalent re-submit, even after the lease TTL, returns the READY status and publishes nothing new', async () => {
    const ports = await parityPorts();
    await submitRun(request(), ports, settings());
    ports.clock.advance(3600);
    const again = await submitRun(request({ request_id: 'second' }), ports, settings());
    expect(again).toMatchObject({
      state: 'READY',
      disposition: 'EXISTING',
      facts_view_ref: srKey('run_facts_view'),
    });
    expect(ports.bus.records).toHaveLength(1);
    expect(recordKinds(ports).filter((k) => k === 'READY_COMMITTED')).toHaveLength(1);
  });

  it('five concurrent submits: one leader, four lease-busy, one READY message, one READY_COMMITTED', async () => {
    const ports = await parityPorts();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => submitRun(request(), ports, settings())),
    );
    expect(answers.filter((a) => a.disposition === 'LEADER')).toHaveLength(1);
    const busy = answers.filter((a) => a.disposition === 'LEASE_BUSY');
    expect(busy).toHaveLength(4);
    for (const a of busy) expect(a.message).toBe('Lease held by another runner; returning current status.');
    expect(ports.bus.records).toHaveLength(1);
    expect(recordKinds(ports).filter((k) => k === 'READY_COMMITTED')).toHaveLength(1);
  });

  it('a submit that gets the lease only after another runner finished the run answers EXISTING, not LEADER', async () => {
    const ports = await parityPorts();
    const acquire = ports.authority.tryAcquireLease.bind(ports.authority);
    let raced = false;
    let other: Awaited<ReturnType<typeof submitRun>> | undefined;
    ports.authority.tryAcquireLease = async (lease) => {
      if (!raced) {
        // This submit read no status yet; another runner now drives the whole run and releases its lease.
        raced = true;
        other = await submitRun(request(), ports, settings());
      }
      return acquire(lease);
    };
    const late = await submitRun(request(), ports, settings());
    expect(other).toMatchObject({ state: 'READY', disposition: 'LEADER' });
    expect(late).toMatchObject({
      state: 'READY',
      disposition: 'EXISTING',
      message: 'Run already READY; returning current status.',
    });
    expect(ports.bus.records).toHaveLength(1);
    expect(recordKinds(ports).filter((k) => k === 'RUN_ACCEPTED')).toHaveLength(1);
    expect(ports.authority.leases.size).toBe(0);
  });

  it('a lease held by another owner: LEASE_BUSY, the current status, nothing written', async () => {
    const ports = await parityPorts();
    const now = ports.clock.now();
    await ports.authority.tryAcquireLease({
      run_id: PARITY_RUN_ID,
      owner_id: 'sr-other',
      lease_token: 'f'.repeat(64),
      expires_at: new Date(now.getTime() + 300_000),
      updated_at: now,
    });
    const answer = await submitRun(request(), ports, settings());
    expect(answer).toMatchObject({ state: 'OPEN', disposition: 'LEASE_BUSY' });
    expect(ports.artifacts.keys(`${PRID}/sr/run_status/`)).toEqual([]);
    expect(ports.artifacts.keys(`${PRID}/sr/run_plan/`)).toEqual([]);
    // the other owner's lease expires: the next submit leads
    ports.clock.advance(301);
    expect((await submitRun(request(), ports, settings())).disposition).toBe('LEADER');
  });

  it('the same key in a new platform run is a fresh run under that prefix', async () => {
    const ports = await parityPorts();
    await submitRun(request(), ports, settings());
    const other = await submitRun(
      request(),
      ports,
      settings({ wiring: { platform_run_id: 'platform_20260102T000000Z' } }),
    );
    expect(other).toMatchObject({ state: 'READY', disposition: 'LEADER' });
    expect(ports.bus.records).toHaveLength(2);
  });
});
