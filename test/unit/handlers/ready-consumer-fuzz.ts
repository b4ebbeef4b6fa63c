import type { KinesisStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { CONTROL_TOPIC } from '../../../lib/contracts/ready.ts';
import { ControlBusRecord, readyOfControlRecord } from '../../../lib/world-streamer/control-record.ts';
import { hostileString, hostileValue, jsonText, Raw } from '../ingestion-gate/fuzz-inputs.ts';
import { memoryGovernance, memoryReadyRuns, memoryStarter, virtualTime } from '../world-streamer/fakes.ts';
import { kinesisEvent } from './factories.ts';

/**
 * Inputs and in-memory ports for the World Streamer ready consumer's stream fuzz (ready-consumer-fuzz.test.ts):
 * control-bus records (READYs with fields replaced or deleted, other topics, random JSON, random bytes, a few
 * parser breakers) and one harness per run — the World Streamer fakes, a facts reader, S3 as a write-once map.
 */

const HEX32 = 'e4f2285913cc771d0d8dd1ad475f7a01';
const HEX64 = '675193875cd981111f5f0f36a98984d7f5ad47a4676e3dff5b83a79f9cf2c96e';
/** The run of the READYs below. */
export const PRID = 'platform_20260101T000000Z';
const FACTS_REF = `${PRID}/sr/run_facts_view/${HEX32}.json`;
/** A valid READY of run PRID; the facts reader in mode 'valid' serves its facts view. */
export const ready = {
  run_id: HEX32,
  platform_run_id: PRID,
  scenario_run_id: HEX32,
  facts_view_ref: FACTS_REF,
  bundle_hash: HEX64,
  message_id: HEX64,
  run_config_digest: HEX64,
  manifest_fingerprint: HEX64,
  parameter_hash: HEX64,
  scenario_id: 'baseline_v1',
  oracle_pack_ref: { engine_run_root: 's3://oracle-store/engine-runs/x' },
};
const pins = { manifest_fingerprint: HEX64, parameter_hash: HEX64, seed: 42, scenario_id: 'baseline_v1' };
const facts = {
  run_id: HEX32,
  platform_run_id: PRID,
  scenario_run_id: HEX32,
  pins: { ...pins, run_id: HEX32, platform_run_id: PRID, scenario_run_id: HEX32 },
  locators: [],
  output_roles: {},
  intended_outputs: [],
  gate_receipts: [],
  policy_rev: { policy_id: 'sr_policy', revision: 'v0-local', content_digest: HEX64 },
  bundle_hash: HEX64,
  run_config_digest: HEX64,
  service_release_id: 'dev-local',
  environment: 'local_parity',
  provenance: { service_release_id: 'dev-local', environment: 'local_parity' },
  plan_ref: `${PRID}/sr/run_plan/${HEX32}.json`,
  record_ref: `${PRID}/sr/run_record/${HEX32}.jsonl`,
  status_ref: `${PRID}/sr/run_status/${HEX32}.json`,
};

/** How the facts reader answers: the facts view, a throw, garbage, or nothing. */
export type FactsMode = 'valid' | 'throws' | 'garbage' | 'absent';

/** One run's ports: the World Streamer fakes, a facts reader in `mode`, S3 as a write-once map. */
export function harness(mode: FactsMode, active: string | undefined) {
  const objects = new Map<string, string>();
  const s3 = {
    async send(command: { input: { Key: string; Body: string } }) {
      const { Key, Body } = command.input;
      if (objects.has(Key))
        throw Object.assign(new Error('PreconditionFailed'), { $metadata: { httpStatusCode: 412 } });
      objects.set(Key, Body);
      return {};
    },
  };
  const facts$ = async (ref: string): Promise<unknown> => {
    if (mode === 'throws') throw new Error('AccessDenied');
    if (mode === 'garbage') return { pins: '\u0000', locators: 7 };
    return mode === 'valid' && ref === FACTS_REF ? facts : undefined;
  };
  return {
    time: virtualTime(),
    readyRuns: memoryReadyRuns(),
    governance: memoryGovernance(),
    starter: memoryStarter(),
    facts: facts$,
    active,
    s3,
    objects,
  };
}

/** READYs: valid (from a pool of two message ids), or with fields replaced or deleted. */
const readyPayload = fc
  .tuple(
    fc.constantFrom(HEX64, 'f'.repeat(64)),
    fc.oneof(
      fc.constant([]),
      fc.array(fc.tuple(fc.constantFrom(...Object.keys(ready), 'extra'), fc.option(hostileValue)), {
        minLength: 1,
        maxLength: 2,
      }),
    ),
  )
  .map(([messageId, changes]) => {
    const out: Record<string, unknown> = { ...ready, message_id: messageId };
    for (const [key, value] of changes) {
      if (value === null) delete out[key];
      else out[key] = value instanceof Raw ? value : structuredClone(value);
    }
    return out;
  });

/** A record's text: a READY, another shape of control record, random text or JSON, or a parser breaker. */
const recordText = fc.oneof(
  { weight: 5, arbitrary: readyPayload.map((payload) => jsonText({ topic: CONTROL_TOPIC, payload })) },
  {
    weight: 2,
    arbitrary: fc
      .record(
        { topic: fc.oneof(fc.constant<unknown>(CONTROL_TOPIC), hostileValue), payload: hostileValue },
        { requiredKeys: [] },
      )
      .map(jsonText),
  },
  { weight: 1, arbitrary: fc.oneof(hostileString, fc.json({ maxDepth: 3 })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      'not json {',
      '{"topic":"fp.bus.other.v1"}',
      `${'{"payload":'.repeat(3_000)}{}${'}'.repeat(3_000)}`,
      '['.repeat(100_000),
      jsonText({ topic: CONTROL_TOPIC, payload: { ...ready, scenario_id: 'x'.repeat(200_000) } }),
    ),
  },
);
/** A record's data, base64 as Kinesis delivers it: UTF-8 text, or any bytes. */
const recordData = fc.oneof(
  { weight: 6, arbitrary: recordText.map((t) => Buffer.from(t, 'utf8').toString('base64')) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')) },
);
/** A batch's records: 1 to 8, each its data and a partition key (two plain ones, or hostile text). */
export const records = fc.array(
  fc.record({ data: recordData, partitionKey: fc.oneof(fc.constantFrom('a', 'b'), hostileString) }),
  { minLength: 1, maxLength: 8 },
);

/** A Kinesis event of the records, sequence numbers ascending from 49000. */
export function event(rs: { data: string; partitionKey: string }[]): KinesisStreamEvent {
  const out = kinesisEvent(
    rs.map((r, i) => ({
      data: '',
      partitionKey: r.partitionKey || 'pk',
      sequenceNumber: String(49_000 + i),
    })),
  );
  out.Records.forEach((r, i) => {
    r.kinesis.data = rs[i]?.data ?? '';
  });
  return out;
}

/** What the edge must do with a record's text: the core may take it (READY or another topic), or it is poison. */
export function expected(text: string): 'ready' | 'other-topic' | 'poison' {
  const record = ControlBusRecord.safeParse(text);
  if (!record.success) return 'poison';
  try {
    return readyOfControlRecord(record.data) ? 'ready' : 'other-topic';
  } catch {
    return 'poison';
  }
}
