import { describe, expect, it } from 'vitest';
import {
  dedupeKey,
  duplicateReceiptId,
  payloadHash,
  quarantineId,
  quarantineReceiptId,
  receiptId,
} from '../../lib/contracts/identity.ts';
import { EbRef, IngestionReceipt, QuarantineRecord, ZERO_FINGERPRINT } from '../../lib/contracts/receipts.ts';

const MF = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const PRID = 'platform_20260101T000000Z';
const SRID = 'e4f2285913cc771d0d8dd1ad475f7a01';
const EVENT_ID = 'c20e21fc01d4bb0d2008f35d5c5a12aa771f1cb8b9b64bf8081ec9a2245de148';
const IG_POLICY_REV = { policy_id: 'ig_policy', revision: 'local-parity-v0', content_digest: 'f'.repeat(64) };
const EB_REF = {
  topic: 'fp.bus.traffic.fraud.v1',
  partition: 0,
  offset: '49590338271490256608559692538361571095921575989136588802',
  offset_kind: 'kinesis_sequence',
  published_at_utc: '2026-01-01T00:00:06.000001+00:00',
};
const provenance = {
  service_release_id: 'dev-local',
  environment: 'local_parity',
  config_revision: 'local-parity-v0',
  run_config_digest: 'f'.repeat(64),
};

const admit = {
  receipt_id: receiptId('ADMIT', EVENT_ID),
  decision: 'ADMIT',
  event_id: EVENT_ID,
  event_type: 's3_event_stream_with_fraud_6B',
  event_class: 'traffic_fraud',
  ts_utc: '2026-01-01T00:00:05.250000Z',
  manifest_fingerprint: MF,
  platform_run_id: PRID,
  run_config_digest: 'f'.repeat(64),
  policy_rev: IG_POLICY_REV,
  dedupe_key: dedupeKey(PRID, 'traffic_fraud', EVENT_ID),
  pins: {
    manifest_fingerprint: MF,
    platform_run_id: PRID,
    scenario_run_id: SRID,
    seed: 42,
    scenario_id: 'baseline_v1',
  },
  scenario_run_id: SRID,
  payload_hash: {
    algo: 'sha256',
    hex: payloadHash({ event_type: 's3_event_stream_with_fraud_6B', payload: {} }),
  },
  admitted_at_utc: '2026-01-01T00:00:06.000002+00:00',
  schema_version: 'v1',
  producer: 'svc:world_stream_producer',
  partitioning_profile_id: 'ig.partitioning.v0.traffic.fraud',
  partition_key: 'a1c367c29158357e62a3ff5d3e800fb7698a22396439dbc0a9d4929322afd35d',
  eb_ref: EB_REF,
  actor: {
    actor_id: 'SYSTEM::local-parity-wsp',
    source_type: 'SYSTEM',
    auth_mode: 'api_key',
    principal: 'local-parity-wsp',
  },
  service_release_id: 'dev-local',
  environment: 'local_parity',
  provenance,
};

const QUARANTINE_ID = quarantineId({ platformRunId: PRID, eventId: EVENT_ID, bodyDigest: '0'.repeat(64) });
const quarantineRef = `s3://fraud-platform/${PRID}/ig/quarantine/${QUARANTINE_ID}.json`;
const quarantineReceipt = {
  ...admit,
  receipt_id: quarantineReceiptId(QUARANTINE_ID),
  decision: 'QUARANTINE',
  reason_codes: ['PAYLOAD_HASH_MISMATCH'],
  evidence_refs: [{ kind: 'quarantine_record', ref: quarantineRef }],
  eb_ref: undefined,
  partition_key: undefined,
  partitioning_profile_id: undefined,
  payload_hash: undefined,
  admitted_at_utc: undefined,
};

const { payload: _payload, ...envelopeWithoutPayload } = {
  event_id: EVENT_ID,
  event_type: 's3_event_stream_with_fraud_6B',
  ts_utc: '2026-01-01T00:00:05.250000Z',
  manifest_fingerprint: MF,
  payload: { flow_id: 1 },
};
const quarantine = {
  quarantine_id: QUARANTINE_ID,
  received_at_utc: '2026-01-01T00:00:06.000003+00:00',
  decision: 'QUARANTINE',
  reason_codes: ['PAYLOAD_HASH_MISMATCH'],
  manifest_fingerprint: MF,
  pins: { manifest_fingerprint: MF, platform_run_id: PRID },
  policy_rev: IG_POLICY_REV,
  envelope: envelopeWithoutPayload,
  service_release_id: 'dev-local',
  environment: 'local_parity',
  provenance,
};

describe('IG receipts and quarantine records (control-ingress.md §5.4, §5.5, §6)', () => {
  it('accepts an ADMIT receipt, a DUPLICATE with receipt_ref evidence, a QUARANTINE receipt and record', () => {
    expect(IngestionReceipt.parse(admit)).toEqual(admit);
    const duplicate = {
      ...admit,
      receipt_id: duplicateReceiptId(EVENT_ID, 'SYSTEM::world_streamer'),
      decision: 'DUPLICATE',
      reason_codes: ['DUPLICATE'],
      evidence_refs: [
        { kind: 'receipt_ref', ref: `s3://fraud-platform/${PRID}/ig/receipts/${admit.receipt_id}.json` },
      ],
    };
    expect(IngestionReceipt.safeParse(duplicate).success).toBe(true);
    expect(IngestionReceipt.safeParse(quarantineReceipt).success).toBe(true);
    expect(QuarantineRecord.parse(quarantine)).toEqual(quarantine);
    expect(
      QuarantineRecord.safeParse({ ...quarantine, manifest_fingerprint: ZERO_FINGERPRINT }).success,
    ).toBe(true);
  });

  it.each(['eb_ref', 'scenario_run_id', 'payload_hash', 'admitted_at_utc'] as const)(
    'an ADMIT receipt without %s is refused, naming the field',
    (field) => {
      const result = IngestionReceipt.safeParse({ ...admit, [field]: undefined });
      expect(result.success).toBe(false);
      expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(field);
    },
  );

  it.each([
    [
      'a QUARANTINE receipt without evidence_refs',
      IngestionReceipt,
      { ...quarantineReceipt, evidence_refs: undefined },
    ],
    ['an unknown decision', IngestionReceipt, { ...admit, decision: 'DROP' }],
    ['an extra receipt field', IngestionReceipt, { ...admit, extra: true }],
    ['a receipt_id that is not hex32', IngestionReceipt, { ...admit, receipt_id: EVENT_ID }],
    ['a millisecond ts_utc', IngestionReceipt, { ...admit, ts_utc: '2026-01-01T00:00:05.250Z' }],
    ['a quarantine record with no reason', QuarantineRecord, { ...quarantine, reason_codes: [] }],
    [
      'a quarantine record holding the payload',
      QuarantineRecord,
      { ...quarantine, envelope: { payload: {} } },
    ],
    ['a quarantine record with decision ADMIT', QuarantineRecord, { ...quarantine, decision: 'ADMIT' }],
  ])('refuses %s', (_, schema, value) => {
    expect(schema.safeParse(value).success).toBe(false);
  });

  it('eb_ref: the Kinesis sequence number is a string, the partition a non-negative integer', () => {
    expect(EbRef.safeParse(EB_REF).success).toBe(true);
    expect(
      EbRef.safeParse({ ...EB_REF, offset: 49590338271490256608559692538361571095921575989136588802n })
        .success,
    ).toBe(false);
    expect(EbRef.safeParse({ ...EB_REF, partition: -1 }).success).toBe(false);
    expect(EbRef.safeParse({ ...EB_REF, offset_kind: 'sqs' }).success).toBe(false);
  });
});
