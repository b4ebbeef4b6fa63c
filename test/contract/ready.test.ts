import { describe, expect, it } from 'vitest';
import { bundleHash, readyMessageId, scenarioRunId } from '../../lib/contracts/identity.ts';
import {
  ControlBusRecord,
  controlRecordText,
  EngineOutputLocator,
  GateReceipt,
  InstanceProofReceipt,
  ReadySignal,
  RunFactsView,
  readyControlRecord,
} from '../../lib/contracts/ready.ts';

const MF = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const PH = 'fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210';
const PRID = 'platform_20260101T000000Z';
const SRID = scenarioRunId('parity_20260101T000000Z');
const POLICY_REV = {
  policy_id: 'sr_policy',
  revision: 'v0-local',
  content_digest: 'c7f6da0172c57228940231844b9a6c4457aa809fc7929ff72ca5512197d0c412',
};
/** Python 3.11 json.dumps(record, sort_keys=True, ensure_ascii=True) of the record built in the test below. */
const CONTROL_RECORD_SJ =
  '{"attributes": {"kind": "READY", "run_id": "e4f2285913cc771d0d8dd1ad475f7a01"}, "message_id": "675193875cd981111f5f0f36a98984d7f5ad47a4676e3dff5b83a79f9cf2c96e", "partition_key": "e4f2285913cc771d0d8dd1ad475f7a01", "payload": {"bundle_hash": "32b531dc0062c4b95d637a8fdc9db7fabe7f266aaef88fd638283050fc37c305", "facts_view_ref": "platform_20260101T000000Z/sr/run_facts_view/e4f2285913cc771d0d8dd1ad475f7a01.json", "manifest_fingerprint": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "message_id": "675193875cd981111f5f0f36a98984d7f5ad47a4676e3dff5b83a79f9cf2c96e", "parameter_hash": "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210", "platform_run_id": "platform_20260101T000000Z", "run_config_digest": "c7f6da0172c57228940231844b9a6c4457aa809fc7929ff72ca5512197d0c412", "run_id": "e4f2285913cc771d0d8dd1ad475f7a01", "scenario_id": "baseline_v1", "scenario_run_id": "e4f2285913cc771d0d8dd1ad475f7a01"}, "published_at_utc": "2026-01-01T00:00:01.000001+00:00", "topic": "fp.bus.control.v1"}';
const BUNDLE = '32b531dc0062c4b95d637a8fdc9db7fabe7f266aaef88fd638283050fc37c305';

const ready = {
  run_id: SRID,
  platform_run_id: PRID,
  scenario_run_id: SRID,
  facts_view_ref: `${PRID}/sr/run_facts_view/${SRID}.json`,
  bundle_hash: BUNDLE,
  message_id: readyMessageId(PRID, SRID, BUNDLE),
  run_config_digest: POLICY_REV.content_digest,
  manifest_fingerprint: MF,
  parameter_hash: PH,
  scenario_id: 'baseline_v1',
};

/** interface_pack/examples/instance_proof_receipt.example.json, verbatim values. */
const INSTANCE_EXAMPLE = {
  output_id: 'arrival_events_5B',
  status: 'PASS',
  scope: { manifest_fingerprint: 'a'.repeat(64), seed: 1, scenario_id: 's1' },
  target_ref: {
    output_id: 'arrival_events_5B',
    path: `data/layer2/5B/arrival_events/seed=1/manifest_fingerprint=${'a'.repeat(64)}/scenario_id=s1/part-000.parquet`,
    manifest_fingerprint: 'a'.repeat(64),
    seed: 1,
    scenario_id: 's1',
    content_digest: { algo: 'sha256', hex: 'b'.repeat(64) },
  },
  target_digest: { algo: 'sha256', hex: 'b'.repeat(64) },
  receipt_kind: 'instance_proof',
  artifacts: {
    receipt_path: `data/layer2/5B/receipts/instance/output_id=arrival_events_5B/seed=1/manifest_fingerprint=${'a'.repeat(64)}/scenario_id=s1/instance_receipt.json`,
  },
};

const locator = {
  output_id: 's3_event_stream_with_fraud_6B',
  path: 's3://oracle-store/run/data/layer3/6B/s3_event_stream_with_fraud_6B/part-*.parquet',
  manifest_fingerprint: MF,
  parameter_hash: PH,
  seed: 42,
  scenario_id: 'baseline_v1',
  content_digest: { algo: 'sha256', hex: 'a'.repeat(64) },
};
const gate = {
  gate_id: 'gate.layer3.6B.validation',
  status: 'PASS',
  scope: { manifest_fingerprint: MF },
  receipt_kind: 'passed_flag',
  digest: { algo: 'sha256', hex: 'c'.repeat(64) },
  artifacts: { validation_bundle_root: 'v/', index_path: 'v/index.json', passed_flag_path: 'v/_passed.flag' },
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
  locators: [locator],
  output_roles: { s3_event_stream_with_fraud_6B: 'business_traffic', arrival_events_5B: 'non_traffic' },
  intended_outputs: ['s3_event_stream_with_fraud_6B'],
  gate_receipts: [gate],
  instance_receipts: [INSTANCE_EXAMPLE],
  policy_rev: POLICY_REV,
  bundle_hash: BUNDLE,
  run_config_digest: POLICY_REV.content_digest,
  service_release_id: 'dev-local',
  environment: 'local_parity',
  provenance: { service_release_id: 'dev-local', environment: 'local_parity' },
  plan_ref: `${PRID}/sr/run_plan/${SRID}.json`,
  record_ref: `${PRID}/sr/run_record/${SRID}.jsonl`,
  status_ref: `${PRID}/sr/run_status/${SRID}.json`,
  oracle_pack_ref: {
    engine_run_root: 's3://oracle-store/local_full_run-5/c25a2675fbfbacd952b13bb594880e92',
    scenario_id: 'baseline_v1',
    oracle_pack_id: 'e'.repeat(64),
  },
};

describe('run facts view and READY (control-ingress.md §3.5, §3.6)', () => {
  it('accepts a complete facts view, the reference instance-proof example, and a READY that matches it', () => {
    expect(RunFactsView.parse(facts)).toEqual(facts);
    expect(InstanceProofReceipt.safeParse(INSTANCE_EXAMPLE).success).toBe(true);
    expect(ReadySignal.parse(ready)).toEqual(ready);
    expect(ready.message_id).toBe('675193875cd981111f5f0f36a98984d7f5ad47a4676e3dff5b83a79f9cf2c96e');
    expect(bundleHash({ locators: [locator], gate_receipts: [gate], policy_rev: POLICY_REV })).toMatch(
      /^[0-9a-f]{64}$/,
    );
  });

  it.each([
    ['an extra field', { ...facts, extra: 1 }],
    ['a role outside the vocabulary', { ...facts, output_roles: { x: 'traffic' } }],
    ['pins without platform_run_id', { ...facts, pins: { ...facts.pins, platform_run_id: undefined } }],
    ['a locator without any identity partition', { ...facts, locators: [{ output_id: 'x', path: 'p' }] }],
    ['a gate status outside PASS/FAIL', { ...facts, gate_receipts: [{ ...gate, status: 'OK' }] }],
    [
      'a digest with another algorithm',
      { ...facts, locators: [{ ...locator, content_digest: { algo: 'md5', hex: 'a'.repeat(64) } }] },
    ],
    [
      'an oracle_pack_ref without engine_run_root',
      { ...facts, oracle_pack_ref: { scenario_id: 'baseline_v1' } },
    ],
  ])('facts view rejects %s', (_, value) => {
    expect(RunFactsView.safeParse(value).success).toBe(false);
  });

  it.each([
    ['a missing message_id', { ...ready, message_id: undefined }],
    ['an extra field', { ...ready, status: 'READY' }],
    ['an empty oracle_pack_ref', { ...ready, oracle_pack_ref: {} }],
    ['a scenario_run_id that is not hex32', { ...ready, scenario_run_id: 'parity' }],
  ])('READY rejects %s', (_, value) => {
    expect(ReadySignal.safeParse(value).success).toBe(false);
  });

  it('golden: the control-bus record bytes are SJ of {topic, message_id, published_at_utc, attributes, partition_key, payload}', () => {
    const record = readyControlRecord(ReadySignal.parse(ready), '2026-01-01T00:00:01.000001+00:00');
    expect(ControlBusRecord.parse(record)).toEqual(record);
    // Python 3.11: json.dumps(record, sort_keys=True, ensure_ascii=True) of the same record.
    expect(controlRecordText(record)).toBe(CONTROL_RECORD_SJ);
  });

  it('locators and gate receipts accept the interface-pack shapes and refuse strangers', () => {
    expect(EngineOutputLocator.safeParse({ output_id: 'o', path: 'p', run_id: 'f'.repeat(32) }).success).toBe(
      true,
    );
    expect(EngineOutputLocator.safeParse({ ...locator, output_id: 'bad id' }).success).toBe(false);
    expect(GateReceipt.safeParse({ ...gate, receipt_kind: 'instance_proof' }).success).toBe(false);
  });
});
