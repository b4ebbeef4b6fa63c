import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, pyFloat, sortedJson } from '../../lib/contracts/canonical-json.ts';
import {
  checkpointScopeKey,
  consumerCheckpointScope,
  dedupeKey,
  duplicateReceiptId,
  engineEventId,
  fallbackPackKey,
  governanceEventId,
  laneOf,
  PrimaryKeyMissing,
  payloadHash,
  policyContentDigest,
  quarantineId,
  quarantineReceiptId,
  receiptId,
  runRecordEventId,
  scenarioRunId,
  sha256Hex,
} from '../../lib/contracts/identity.ts';

/**
 * Golden ids. Except where a comment names the spec, every literal was computed with Python 3.11 the way
 * the reference does it (json.dumps(sort_keys=True, ensure_ascii=True) with separators (',', ':') for CJ and
 * the defaults for SJ, str() of ints, datetime.isoformat(), pydantic 2 model_dump(mode="json"), hashlib.sha256)
 * — see the recipe named in each test — and pasted here.
 */

const MF = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const PH = 'fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210';
const PRID = 'platform_20260101T000000Z';
const SRID = 'e4f2285913cc771d0d8dd1ad475f7a01';
const _SR_POLICY_REV = {
  policy_id: 'sr_policy',
  revision: 'v0-local',
  content_digest: 'c7f6da0172c57228940231844b9a6c4457aa809fc7929ff72ca5512197d0c412',
};
const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

// World Streamer and Ingestion Gate ids, and properties of every recipe (the Scenario Runner ids: identity.test.ts).
const ROW = {
  seed: 42,
  manifest_fingerprint: MF,
  parameter_hash: PH,
  scenario_id: 'baseline_v1',
  flow_id: 9007199254740993n,
  event_seq: 3,
  event_type: 'AUTH_REQUEST',
  ts_utc: '2026-01-01T00:00:05.250000Z',
  amount: 12.5,
  fraud_flag: false,
  campaign_id: null,
};
const PINS = { manifest_fingerprint: MF, parameter_hash: PH, seed: 42, scenario_id: 'baseline_v1' };
const TRAFFIC_PK = ['seed', 'manifest_fingerprint', 'scenario_id', 'flow_id', 'event_seq'];
const EVENT_ID = 'c20e21fc01d4bb0d2008f35d5c5a12aa771f1cb8b9b64bf8081ec9a2245de148';

describe('World Streamer ids (control-ingress.md §4)', () => {
  it('golden: engine event_id over output_id | str(PK…) | mf | ph | seed | scenario_id (int64 exact)', () => {
    expect(engineEventId('s3_event_stream_with_fraud_6B', TRAFFIC_PK, ROW, PINS)).toBe(EVENT_ID);
    // The preimage spelled out, hashed independently.
    const preimage = `s3_event_stream_with_fraud_6B|42|${MF}|baseline_v1|9007199254740993|3|${MF}|${PH}|42|baseline_v1`;
    expect(sha(preimage)).toBe(EVENT_ID);
    // A uint64 merchant_id, and an absent parameter_hash pin is skipped as the reference does.
    expect(
      engineEventId(
        'arrival_events_5B',
        ['seed', 'manifest_fingerprint', 'scenario_id', 'merchant_id', 'arrival_seq'],
        {
          merchant_id: 2n ** 64n - 1n,
          arrival_seq: 1,
          seed: 42,
          manifest_fingerprint: MF,
          scenario_id: 'baseline_v1',
        },
        { manifest_fingerprint: MF, parameter_hash: null, seed: 42, scenario_id: 'baseline_v1' },
      ),
    ).toBe('fdb4b8910225c90a9e6ece460ee81c464b8ee7d25a98efcf2f4cb4679a5ce581');
  });

  it('a null or absent primary-key value is PRIMARY_KEY_MISSING', () => {
    expect(() => engineEventId('x', ['flow_id'], { flow_id: null }, PINS)).toThrow(PrimaryKeyMissing);
    expect(() => engineEventId('x', ['flow_id'], {}, PINS)).toThrow(/PRIMARY_KEY_MISSING: flow_id/);
  });

  it('golden: lane = uint64_be(sha256(event_id)[:8]) % lane_count', () => {
    // uint64 head of sha256(EVENT_ID) is 1396991037626819428; mod 7 = 3.
    expect(laneOf(EVENT_ID, 7)).toBe(3);
    expect(laneOf(EVENT_ID, 1)).toBe(0);
    expect(1396991037626819428n % 7n).toBe(3n);
  });

  it('golden: pack key fallback and checkpoint scope key', () => {
    const packKey = fallbackPackKey('s3://oracle-store/local_full_run-5/c25a2675fbfbacd952b13bb594880e92');
    expect(packKey).toBe('3d715e502ebb506caa26d4ae618d2d07c4e751ffc606b2732a51c53ffdb37513');
    const base = { packKey, platformRunId: PRID, scenarioRunId: SRID };
    expect(checkpointScopeKey({ ...base, laneCount: 1, laneIndex: 0 })).toBe(
      '66015a0d9029d6342cad15c65b596a60760b4b5deffa7f4d6ec5ea05bb07880a',
    );
    expect(checkpointScopeKey({ ...base, laneCount: 4, laneIndex: 3, attemptId: 'attempt-7' })).toBe(
      '80fcfa630dedae1583e3f43087c7c6a18d700229ad06d10ab35b59f286adf132',
    );
    expect(consumerCheckpointScope('ieg.v0', PRID)).toBe('ieg.v0::platform_20260101T000000Z');
  });

  it('golden: governance event_id with a dedupe key, and with CJ(details) standing in for one', () => {
    const messageId = '675193875cd981111f5f0f36a98984d7f5ad47a4676e3dff5b83a79f9cf2c96e';
    expect(
      governanceEventId({
        eventFamily: 'run_ready_seen',
        platformRunId: PRID,
        scenarioRunId: SRID,
        sourceComponent: 'wsp_ready_consumer',
        dedupeKey: `ready_seen:${messageId}`,
        details: { ignored: true },
      }),
    ).toBe('15d1b97fdc232ef52e2b35f1293723ac877d381b1e514725e045371d85968ac4');
    expect(
      governanceEventId({
        eventFamily: 'CORRIDOR_ANOMALY',
        platformRunId: PRID,
        scenarioRunId: null,
        sourceComponent: 'ingestion_gate',
        dedupeKey: '',
        // Python's details held the float 1.0; pyFloat keeps it a float in CJ.
        details: { reason_code: 'PINS_MISSING', event_id: 'é', n: pyFloat(1) },
      }),
    ).toBe('8fd23163d74d896efc17d1f3d81c6846d83bd1ed66c5fb2129247ed4af6c13ad');
  });
});

describe('Ingestion Gate ids (control-ingress.md §5)', () => {
  it('golden: dedupe_key = sha256("{platform_run_id}:{event_class}:{event_id}"), no run → ""', () => {
    expect(dedupeKey(PRID, 'traffic_fraud', EVENT_ID)).toBe(
      '60c6198c7eaba42c616ea50af0d4a26918b395d548d2a661dff5024d7c5c0b8d',
    );
    expect(dedupeKey(undefined, 'traffic_fraud', EVENT_ID)).toBe(
      '6a763f4b801db8b03f755c73bd5941dcb4ec42d5488e4f035d59cd11dcf524e0',
    );
  });

  it('golden: payload_hash over CJ({event_type, schema_version, payload}) with Python floats; absent → null', () => {
    const payload = { ...ROW, amount: 1e16, tiny: 1e-7, ratio: 0.1 + 0.2, whole: pyFloat(100), name: 'café' };
    const golden = 'e9a2d1dbfd75ec7b44b95b1f21e8c795b0766a4ca4f2fff8cfd02c5cd9888732';
    expect(payloadHash({ event_type: 's3_event_stream_with_fraud_6B', schema_version: 'v1', payload })).toBe(
      golden,
    );
    // Python wrote `whole` as 100.0 (a float); the int 100 is a different payload.
    expect(
      payloadHash({
        event_type: 's3_event_stream_with_fraud_6B',
        schema_version: 'v1',
        payload: { ...payload, whole: 100 },
      }),
    ).not.toBe(golden);
    expect(payloadHash({ event_type: 's3_event_stream_with_fraud_6B' })).toBe(
      'f571512268722406d4e5a90c714297b6de0c511c2ba28d8e6f5d24cb397c8d90',
    );
  });

  it('golden: receipt_id = sha256("{decision}:{event_id}")[:32] for ADMIT, as the reference', () => {
    expect(receiptId('ADMIT', EVENT_ID)).toBe('20d9c96bc2064afa25f259a22ad02f9c');
    expect(receiptId('DUPLICATE', EVENT_ID)).toBe('4f87dea960ded4e2e338f3005b5f5626');
    expect(receiptId('QUARANTINE', EVENT_ID)).toBe('6efd4a315fff4d0b59476a794b901abc');
  });

  it('ours: a DUPLICATE receipt per pusher, a quarantine id per run, event and body, its receipt per record', () => {
    const sha32 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 32);
    expect(duplicateReceiptId(EVENT_ID, 'SYSTEM::world_streamer')).toBe(
      sha32(`DUPLICATE:${EVENT_ID}:SYSTEM::world_streamer`),
    );
    expect(duplicateReceiptId(EVENT_ID, 'SYSTEM::a')).not.toBe(duplicateReceiptId(EVENT_ID, 'SYSTEM::b'));
    const basis = {
      platformRunId: 'platform_20260101T000000Z',
      eventId: EVENT_ID,
      bodyDigest: 'ab'.repeat(32),
    };
    expect(quarantineId(basis)).toBe(
      sha32(`QUARANTINE:platform_20260101T000000Z:${EVENT_ID}:${'ab'.repeat(32)}`),
    );
    // Two different bodies of one event, or of no event, never share a record; the run is part of the id.
    expect(quarantineId({ ...basis, bodyDigest: 'cd'.repeat(32) })).not.toBe(quarantineId(basis));
    expect(quarantineId({ bodyDigest: 'ab'.repeat(32) })).not.toBe(
      quarantineId({ bodyDigest: 'cd'.repeat(32) }),
    );
    expect(quarantineId({ ...basis, platformRunId: 'platform_20260102T000000Z' })).not.toBe(
      quarantineId(basis),
    );
    expect(quarantineReceiptId(quarantineId(basis))).toBe(sha32(`QUARANTINE:${quarantineId(basis)}`));
  });

  it('golden: IG policy content_digest over CJ([{path, content: CJ(yaml)}]) sorted by path', () => {
    const files = [
      {
        path: 'config/platform/ig/schema_policy_v0.yaml',
        content: {
          version: '0.1.0',
          default_action: 'quarantine',
          policies: [{ event_type: 'x', schema_version_required: false }],
        },
      },
      {
        path: 'config/platform/ig/class_map_v0.yaml',
        content: { version: '0.1.0', event_types: { x: 'traffic' } },
      },
      {
        path: 'config/platform/ig/partitioning_profiles_v0.yaml',
        content: { version: '0.1.0', profiles: { p: { key_precedence: ['event_id'], weight: 0.5 } } },
      },
    ];
    expect(policyContentDigest(files)).toBe(
      'f0320803f8dead5433559a952400cd0c53366076a26600c6a01facb7bde1315e',
    );
    expect(policyContentDigest([...files].reverse())).toBe(
      'f0320803f8dead5433559a952400cd0c53366076a26600c6a01facb7bde1315e',
    );
  });
});

describe('identity properties', () => {
  const hex32 = /^[0-9a-f]{32}$/;
  it('hex32 ids are the first half of the full digest of their documented preimage', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(scenarioRunId(text)).toMatch(hex32);
        expect(scenarioRunId(text)).toBe(sha(`sr_run|${text}`).slice(0, 32));
        expect(receiptId('ADMIT', text)).toBe(sha(`ADMIT:${text}`).slice(0, 32));
        expect(sha256Hex(text)).toBe(sha(text));
      }),
      { numRuns: 300 },
    );
  });

  it('engine event_id: int64 ids hash as exact decimals, whether number or bigint', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), (flowId) => {
        const asBig = engineEventId('o', ['flow_id'], { flow_id: flowId }, PINS);
        expect(asBig).toBe(sha(`o|${flowId.toString()}|${MF}|${PH}|42|baseline_v1`));
        const n = Number(flowId);
        if (Number.isSafeInteger(n))
          expect(engineEventId('o', ['flow_id'], { flow_id: n }, PINS)).toBe(asBig);
      }),
      { numRuns: 500 },
    );
  });

  it('laneOf partitions: always in [0, lane_count)', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 64 }), (eventId, laneCount) => {
        const lane = laneOf(eventId, laneCount);
        expect(lane).toBeGreaterThanOrEqual(0);
        expect(lane).toBeLessThan(laneCount);
      }),
    );
  });

  it('run record ids use SJ, not CJ: the two separators give different ids', () => {
    const details = { a: 1, b: [1, 2] };
    expect(runRecordEventId('K', SRID, details)).toBe(
      sha(sortedJson({ event_kind: 'K', run_id: SRID, details })),
    );
    expect(runRecordEventId('K', SRID, details)).not.toBe(
      sha(canonicalJson({ event_kind: 'K', run_id: SRID, details })),
    );
  });
});
