import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, pyFloat, sortedJson } from '../../lib/contracts/canonical-json.ts';
import {
  attemptId,
  bundleHash,
  checkpointScopeKey,
  consumerCheckpointScope,
  dedupeKey,
  engineEventId,
  fallbackPackKey,
  governanceEventId,
  intentFingerprint,
  laneOf,
  leaseToken,
  PrimaryKeyMissing,
  payloadHash,
  planHash,
  policyContentDigest,
  quarantineId,
  readyMessageId,
  receiptId,
  runRecordEventId,
  scenarioRunId,
  scenarioSetId,
  sha256Hex,
  terminalReemitKey,
} from '../../lib/contracts/identity.ts';
import { pydanticJsonDatetime } from '../../lib/contracts/python-format.ts';

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
const SR_POLICY_REV = {
  policy_id: 'sr_policy',
  revision: 'v0-local',
  content_digest: 'c7f6da0172c57228940231844b9a6c4457aa809fc7929ff72ca5512197d0c412',
};
const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('Scenario Runner ids (control-ingress.md §3)', () => {
  it('golden (spec §9 check 1): run_equivalence_key parity_20260101T000000Z → scenario_run_id e4f2…7a01', () => {
    expect(scenarioRunId('parity_20260101T000000Z')).toBe(SRID);
    // Non-ASCII keys hash as UTF-8: sha256("sr_run|clé-😀")[:32].
    expect(scenarioRunId('clé-😀')).toBe('c1acd6d8fb2828860b698c0fe6430a48');
  });

  it('golden: scenario set id is order- and duplicate-free', () => {
    expect(scenarioSetId(['b', 'a', 'b', 'é'])).toBe('scnset_1225e894b717e2ef');
    expect(scenarioSetId(['é', 'a', 'b'])).toBe('scnset_1225e894b717e2ef');
    expect(scenarioSetId(['a', 'b'])).not.toBe('scnset_1225e894b717e2ef');
  });

  it('golden: attempt_id = sha256("sr_attempt|{run_id}|{n}")[:32]', () => {
    expect(attemptId(SRID, 1)).toBe('d85d61d57f456db4b04740a771c1e671');
    expect(() => attemptId(SRID, 0)).toThrow(RangeError);
  });

  it('golden: intent_fingerprint over SJ with isoformat windows (null set, uint64 seed, offsets, micros)', () => {
    expect(
      intentFingerprint({
        manifest_fingerprint: MF,
        parameter_hash: PH,
        seed: 42,
        scenario_id: 'baseline_v1',
        scenario_set: null,
        window_start_utc: '2026-01-01T00:00:00Z',
        window_end_utc: new Date('2026-01-02T00:00:00.000Z'),
        window_tz: 'UTC',
      }),
    ).toBe('b5a7f51207ac091194075f777ae832c673ad8fed855c889fa4839b26881093e4');
    expect(
      intentFingerprint({
        manifest_fingerprint: MF,
        parameter_hash: PH,
        seed: 2n ** 64n - 1n,
        scenario_id: scenarioSetId(['s2', 's1']),
        scenario_set: ['s2', 's1'],
        window_start_utc: '2026-01-01T01:00:00.5+01:00',
        window_end_utc: '2026-01-02T00:00:00.000001Z',
        window_tz: 'Europe/London',
      }),
    ).toBe('ba25495efe88a1d1f0d79b0663ac268bfc791496607d6eb26b6971bcc6151493');
  });

  it('golden: plan_hash = sha256(SJ(plan minus plan_hash)), datetimes in pydantic JSON form', () => {
    const created = '2026-01-01T00:00:00.123456Z';
    const plan = {
      run_id: SRID,
      policy_rev: SR_POLICY_REV,
      strategy: 'AUTO' as const,
      intended_outputs: ['s2_event_stream_baseline_6B', 's3_event_stream_with_fraud_6B'],
      required_gates: [
        'gate.layer1.1A.validation',
        'gate.layer1.1B.validation',
        'gate.layer1.2A.validation',
        'gate.layer1.2B.validation',
        'gate.layer1.3A.validation',
        'gate.layer1.3B.validation',
        'gate.layer2.5A.validation',
        'gate.layer2.5B.validation',
        'gate.layer3.6A.validation',
        'gate.layer3.6B.validation',
      ],
      evidence_deadline_utc: pydanticJsonDatetime('2026-01-01T00:10:00.123456+00:00'),
      attempt_limit: 1,
      created_at_utc: pydanticJsonDatetime(created),
    };
    const golden = '4ab2416b4a52dd97932d5854a54d9efdb2c18457dda07d699f307880653d5ac5';
    expect(planHash(plan)).toBe(golden);
    // plan_hash itself is left out of its own preimage.
    expect(planHash({ ...plan, plan_hash: golden } as typeof plan)).toBe(golden);
    expect(planHash({ ...plan, attempt_limit: 2 })).not.toBe(golden);
  });

  it('golden: run record event_id = sha256(SJ({event_kind, run_id, details}))', () => {
    const intent = 'b5a7f51207ac091194075f777ae832c673ad8fed855c889fa4839b26881093e4';
    expect(runRecordEventId('RUN_ACCEPTED', SRID, { intent_fingerprint: intent })).toBe(
      '4a5921002c772efaa4e486bc947753ac9d3dc0362730529c2667090bf6be7463',
    );
  });

  const D = (c: string) => ({ algo: 'sha256', hex: c.repeat(64) });
  const locators = [
    {
      output_id: 's3_event_stream_with_fraud_6B',
      path: 's3://oracle/x/part-*.parquet',
      manifest_fingerprint: MF,
      parameter_hash: PH,
      seed: 2n ** 63n + 5n,
      scenario_id: 'baseline_v1',
      content_digest: D('a'),
    },
    {
      output_id: 'arrival_events_5B',
      path: 's3://oracle/y/part-*.parquet',
      manifest_fingerprint: MF,
      seed: 42,
      scenario_id: 'baseline_v1',
      content_digest: D('b'),
    },
  ];
  const gateReceipts = [
    {
      gate_id: 'gate.layer3.6B.validation',
      status: 'PASS',
      scope: { manifest_fingerprint: MF },
      receipt_kind: 'passed_flag',
      digest: D('c'),
      artifacts: { passed_flag_path: 'p/_passed.flag' },
    },
    {
      gate_id: 'gate.layer1.1A.validation',
      status: 'PASS',
      scope: { manifest_fingerprint: MF },
      receipt_kind: 'passed_flag',
      digest: D('d'),
    },
  ];
  const instanceReceipts = [
    {
      output_id: 'arrival_events_5B',
      status: 'PASS',
      scope: { manifest_fingerprint: MF, seed: 42, scenario_id: 'baseline_v1' },
      target_ref: locators[1],
      target_digest: D('b'),
      receipt_kind: 'instance_proof',
      artifacts: { receipt_path: 'sr/instance_receipts/x.json' },
    },
  ];
  const BUNDLE = '32b531dc0062c4b95d637a8fdc9db7fabe7f266aaef88fd638283050fc37c305';

  it('golden: bundle_hash over CJ, locators by output_id and receipts by gate_id, input order irrelevant', () => {
    const bundle = {
      locators,
      gate_receipts: gateReceipts,
      instance_receipts: instanceReceipts,
      policy_rev: SR_POLICY_REV,
    };
    expect(bundleHash(bundle)).toBe(BUNDLE);
    expect(
      bundleHash({
        ...bundle,
        locators: [...locators].reverse(),
        gate_receipts: [...gateReceipts].reverse(),
      }),
    ).toBe(BUNDLE);
    expect(bundleHash({ ...bundle, instance_receipts: [] })).not.toBe(BUNDLE);
    expect(runRecordEventId('READY_COMMITTED', SRID, { bundle_hash: BUNDLE })).toBe(
      '50a55764753fd4d4f5aa105bde942806cd739d76427ae9a305ba199a70dbfb79',
    );
  });

  it('golden (recipe of spec §9 check 2): READY message_id = sha256("ready|{prid}|{srid}|{bundle_hash}")', () => {
    expect(readyMessageId(PRID, SRID, BUNDLE)).toBe(
      '675193875cd981111f5f0f36a98984d7f5ad47a4676e3dff5b83a79f9cf2c96e',
    );
    // Without a bundle hash the plan hash stands in.
    expect(
      readyMessageId(PRID, SRID, '4ab2416b4a52dd97932d5854a54d9efdb2c18457dda07d699f307880653d5ac5'),
    ).toBe('5d85b7c074875294875c3c33742c3503d9f7f8b690e6960e2ed5890eef2bf479');
  });

  it('golden: lease token and terminal reemit key', () => {
    expect(leaseToken(SRID, 'sr-local', '2026-01-01T00:00:00.123456+00:00')).toBe(
      'b7c90c793c76280689c2f0514149ad860b952e820cebaac54509f7d751c2b8e0',
    );
    const status = {
      run_id: SRID,
      state: 'FAILED',
      updated_at_utc: '2026-01-01T00:10:00+00:00',
      reason_code: 'EVIDENCE_MISSING_DEADLINE',
      record_ref: 'fraud-platform/sr/run_record/x.jsonl',
    };
    expect(terminalReemitKey(SRID, 'FAILED', status)).toBe(
      'd83cd56aebe4de2a369babe70661407297ffbdd12bb4ea802036d26e5d5137eb',
    );
  });
});

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

  it('golden: receipt_id = sha256("{decision}:{event_id}")[:32], quarantine_id = sha256("QUARANTINE:"+id)[:32]', () => {
    expect(receiptId('ADMIT', EVENT_ID)).toBe('20d9c96bc2064afa25f259a22ad02f9c');
    expect(receiptId('DUPLICATE', EVENT_ID)).toBe('4f87dea960ded4e2e338f3005b5f5626');
    expect(receiptId('QUARANTINE', EVENT_ID)).toBe('6efd4a315fff4d0b59476a794b901abc');
    expect(quarantineId(EVENT_ID)).toBe('6efd4a315fff4d0b59476a794b901abc');
    expect(quarantineId(undefined)).toBe('4ae3cb0ed0da502e7f285a403d937c44');
    expect(quarantineId('')).toBe('4ae3cb0ed0da502e7f285a403d937c44');
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
