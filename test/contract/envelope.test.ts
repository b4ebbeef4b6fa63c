import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, parseJsonLossless } from '../../lib/contracts/canonical-json.ts';
import {
  CanonicalEnvelope,
  EventTimeMissing,
  engineEnvelope,
  envelopeTsUtc,
  WSP_PRODUCER,
} from '../../lib/contracts/envelope.ts';
import { fallbackPackKey, payloadHash } from '../../lib/contracts/identity.ts';

const MF = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const PH = 'fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210';

/** interface_pack/examples/canonical_event.example.json, verbatim. */
const REFERENCE_EXAMPLE = `{
  "event_id": "550e8400-e29b-41d4-a716-446655440000",
  "event_type": "arrival_event",
  "schema_version": "1",
  "ts_utc": "2026-01-02T10:15:30.123456Z",
  "emitted_at_utc": "2026-01-02T10:15:30.223456Z",
  "manifest_fingerprint": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  "parameter_hash": "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
  "seed": 123456789,
  "scenario_id": "scenario_42",
  "run_id": "89abcdef0123456789abcdef01234567",
  "trace_id": "trace-0000000000000001",
  "span_id": "span-00000001",
  "producer": "data_engine",
  "payload": {
    "merchant_id": "m_00001234",
    "site_id": 100001,
    "amount_minor": 2599,
    "currency": "GBP"
  }
}`;

const MINIMAL = {
  event_id: 'e1',
  event_type: 't',
  ts_utc: '2026-01-01T00:00:00.000000Z',
  manifest_fingerprint: MF,
};

describe('canonical event envelope (canonical_event_envelope.schema.yaml, control-ingress.md §5.2)', () => {
  it('accepts the reference example and keeps it byte-identical under CJ', () => {
    const value = parseJsonLossless(REFERENCE_EXAMPLE);
    const parsed = CanonicalEnvelope.parse(value);
    expect(canonicalJson(parsed)).toBe(canonicalJson(value));
    expect(CanonicalEnvelope.safeParse(MINIMAL).success).toBe(true);
  });

  it('accepts uint64 seeds beyond 2^53 as bigint and integer scenario ids', () => {
    expect(CanonicalEnvelope.safeParse({ ...MINIMAL, seed: 2n ** 64n - 1n, scenario_id: 7 }).success).toBe(
      true,
    );
  });

  it.each([
    ['an extra top-level field', { ...MINIMAL, amount: 1 }],
    ['a missing manifest_fingerprint', { ...MINIMAL, manifest_fingerprint: undefined }],
    ['upper-case hex', { ...MINIMAL, manifest_fingerprint: MF.toUpperCase() }],
    ['milliseconds only', { ...MINIMAL, ts_utc: '2026-01-01T00:00:00.000Z' }],
    ['an offset instead of Z', { ...MINIMAL, ts_utc: '2026-01-01T00:00:00.000000+00:00' }],
    ['an empty event_id', { ...MINIMAL, event_id: '' }],
    ['a 257-character event_type', { ...MINIMAL, event_type: 'x'.repeat(257) }],
    ['a negative seed', { ...MINIMAL, seed: -1 }],
    ['a seed beyond uint64', { ...MINIMAL, seed: 2n ** 64n }],
    ['a short run_id', { ...MINIMAL, run_id: 'abc' }],
    ['a malformed platform_run_id', { ...MINIMAL, platform_run_id: 'platform_2026' }],
    ['an array payload', { ...MINIMAL, payload: [1] }],
    ['a null payload', { ...MINIMAL, payload: null }],
  ])('rejects %s', (_, envelope) => {
    expect(CanonicalEnvelope.safeParse(envelope).success).toBe(false);
  });
});

describe('WSP envelope per row (control-ingress.md §4.4)', () => {
  it('golden: ts_utc normalisation (Python 3.11 fromisoformat → UTC → %Y-%m-%dT%H:%M:%S.%fZ)', () => {
    expect(envelopeTsUtc('2026-01-01T00:00:05.25Z')).toBe('2026-01-01T00:00:05.250000Z');
    expect(envelopeTsUtc('2026-01-01 00:00:05')).toBe('2026-01-01T00:00:05.000000Z');
    expect(envelopeTsUtc('2026-01-01T01:30:00.1234567+01:30')).toBe('2026-01-01T00:00:00.123456Z');
    expect(envelopeTsUtc('2025-12-31T23:59:59.999999-00:01')).toBe('2026-01-01T00:00:59.999999Z');
    expect(envelopeTsUtc('2026-01-01T00:00')).toBe('2026-01-01T00:00:00.000000Z');
    expect(envelopeTsUtc(new Date('2026-01-01T00:00:00.007Z'))).toBe('2026-01-01T00:00:00.007000Z');
    for (const bad of ['', 'soon', '2026-02-30T00:00:00Z', '2026-01-01T25:00:00Z']) {
      expect(envelopeTsUtc(bad), bad).toBeUndefined();
    }
  });

  const row = {
    seed: 42,
    manifest_fingerprint: MF,
    parameter_hash: PH,
    scenario_id: 'baseline_v1',
    flow_id: 9007199254740993n,
    event_seq: 3,
    event_type: 'AUTH_REQUEST',
    ts_utc: '2026-01-01T00:00:05.25Z',
    amount: 12.5,
    fraud_flag: false,
    campaign_id: null,
  };
  const input = {
    outputId: 's3_event_stream_with_fraud_6B',
    primaryKey: ['seed', 'manifest_fingerprint', 'scenario_id', 'flow_id', 'event_seq'],
    row,
    pins: { manifest_fingerprint: MF, parameter_hash: PH, seed: 42, scenario_id: 'baseline_v1' },
    runId: '89abcdef0123456789abcdef01234567',
    platformRunId: 'platform_20260101T000000Z',
    scenarioRunId: 'e4f2285913cc771d0d8dd1ad475f7a01',
    packKey: fallbackPackKey('s3://oracle-store/local_full_run-5/c25a2675fbfbacd952b13bb594880e92'),
  };

  it('golden (shape of spec §9 check 8): event_id, event_type = output_id, µs-Z ts, 7 pins, producer, trace', () => {
    const envelope = engineEnvelope(input);
    expect(CanonicalEnvelope.parse(envelope)).toEqual(envelope);
    // event_id: the Python-computed golden of identity.test.ts for this row.
    expect(envelope.event_id).toBe('c20e21fc01d4bb0d2008f35d5c5a12aa771f1cb8b9b64bf8081ec9a2245de148');
    expect(envelope).toMatchObject({
      event_type: 's3_event_stream_with_fraud_6B',
      schema_version: 'v1',
      ts_utc: '2026-01-01T00:00:05.250000Z',
      manifest_fingerprint: MF,
      parameter_hash: PH,
      seed: 42,
      scenario_id: 'baseline_v1',
      run_id: input.runId,
      platform_run_id: input.platformRunId,
      scenario_run_id: input.scenarioRunId,
      producer: WSP_PRODUCER,
      trace_id: '3d715e502ebb506caa26d4ae618d2d07c4e751ffc606b2732a51c53ffdb37513',
      payload: row,
    });
    expect(envelope).not.toHaveProperty('span_id');
    expect(engineEnvelope({ ...input, engineRelease: 'engine-1.2.3' }).span_id).toBe('engine-1.2.3');
  });

  it('a payload_json column is the payload, int64 kept exact; a row without ts_utc is refused', () => {
    const envelope = engineEnvelope({
      ...input,
      primaryKey: ['flow_id'],
      row: { ts_utc: '2026-01-01T00:00:00Z', payload_json: '{"flow_id": 9223372036854775807, "x": 1.5}' },
    });
    expect(envelope.payload).toEqual({ flow_id: 9223372036854775807n, x: 1.5 });
    expect(() => engineEnvelope({ ...input, row: { ...row, ts_utc: null } })).toThrow(EventTimeMissing);
  });

  it('the same row always yields the same event_id and payload_hash; a changed PK changes the id', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), fc.nat(), (flowId, eventSeq) => {
        const a = engineEnvelope({ ...input, row: { ...row, flow_id: flowId, event_seq: eventSeq } });
        const b = engineEnvelope({ ...input, row: { ...row, flow_id: flowId, event_seq: eventSeq } });
        const c = engineEnvelope({ ...input, row: { ...row, flow_id: flowId, event_seq: eventSeq + 1 } });
        expect(b.event_id).toBe(a.event_id);
        expect(payloadHash(b)).toBe(payloadHash(a));
        expect(c.event_id).not.toBe(a.event_id);
      }),
      { numRuns: 200 },
    );
  });
});
