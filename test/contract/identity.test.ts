import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  attemptId,
  bundleHash,
  intentFingerprint,
  leaseToken,
  planHash,
  readyMessageId,
  runRecordEventId,
  scenarioRunId,
  scenarioSetId,
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
const _sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

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
