import { describe, expect, it } from 'vitest';
import { DECISION_TOPIC, inletVerdict } from '../../../lib/decision-fabric/inlet.ts';

/**
 * The decision fabric's inlet (downstream.md §3.2, §9 #6): only `s3_event_stream_with_fraud_6B` v1 on the traffic
 * topic with the six pins and an event id is decided on; every other record is rejected with its reason, in the
 * reference's order — and the lane's own outputs never loop back.
 */

const SOURCE = {
  event_id: 'e'.repeat(64),
  event_type: 's3_event_stream_with_fraud_6B',
  ts_utc: '2026-03-08T00:01:03.106979Z',
  schema_version: 'v1',
  platform_run_id: 'platform_20260302T000000Z',
  scenario_run_id: '2'.repeat(32),
  manifest_fingerprint: 'a'.repeat(64),
  parameter_hash: 'b'.repeat(64),
  seed: 42,
  scenario_id: 'baseline_v1',
  run_id: '1'.repeat(32),
  payload: { flow_id: 9_000_000_000_000_000_001n, amount: 12.5 },
};

const reasonOf = (topic: string, raw: unknown) => {
  const verdict = inletVerdict(topic, raw);
  return verdict.accepted ? 'ACCEPTED' : `${verdict.reason}${verdict.detail ? `:${verdict.detail}` : ''}`;
};

describe('inletVerdict', () => {
  it('a fraud traffic event at v1 with the six pins is accepted, parsed as the canonical envelope', () => {
    const verdict = inletVerdict(DECISION_TOPIC, SOURCE);
    expect(verdict).toMatchObject({ accepted: true, envelope: { event_id: SOURCE.event_id, seed: 42 } });
    const { run_id: _run, ...withoutRunId } = SOURCE;
    expect(reasonOf(DECISION_TOPIC, withoutRunId)).toBe('ACCEPTED');
  });

  it('§9 #6: the lane’s own outputs and ig./al./df. events are LOOP_PREVENTION; other types are not allowed', () => {
    for (const type of [
      'decision_response',
      'action_intent',
      'action_outcome',
      'degrade_posture',
      'ig.receipt',
      'al.x',
      'df.y',
    ])
      expect(reasonOf(DECISION_TOPIC, { ...SOURCE, event_type: type })).toBe(`LOOP_PREVENTION:${type}`);
    expect(reasonOf(DECISION_TOPIC, { ...SOURCE, event_type: 's2_event_stream_baseline_6B' })).toBe(
      'EVENT_TYPE_NOT_ALLOWED:s2_event_stream_baseline_6B',
    );
    expect(reasonOf(DECISION_TOPIC, { ...SOURCE, event_type: undefined })).toBe('EVENT_TYPE_NOT_ALLOWED');
  });

  it('rejections in order: not an object, another topic, schema version, pins, event id, then the envelope schema', () => {
    expect(reasonOf(DECISION_TOPIC, 'text')).toBe('INVALID_ENVELOPE:not a JSON object');
    expect(reasonOf(DECISION_TOPIC, [SOURCE])).toBe('INVALID_ENVELOPE:not a JSON object');
    expect(reasonOf('fp.bus.context.arrival_events.v1', SOURCE)).toBe(
      'NON_TRAFFIC_TOPIC:fp.bus.context.arrival_events.v1',
    );
    expect(reasonOf(DECISION_TOPIC, { ...SOURCE, schema_version: undefined })).toBe(
      'SCHEMA_VERSION_REQUIRED',
    );
    expect(reasonOf(DECISION_TOPIC, { ...SOURCE, schema_version: 'v2' })).toBe(
      'SCHEMA_VERSION_NOT_ALLOWED:v2',
    );
    expect(reasonOf(DECISION_TOPIC, { ...SOURCE, seed: null, scenario_id: '' })).toBe(
      'MISSING_REQUIRED_PINS:seed,scenario_id',
    );
    expect(reasonOf(DECISION_TOPIC, { ...SOURCE, event_id: '' })).toBe('MISSING_EVENT_ID');
    expect(reasonOf(DECISION_TOPIC, { ...SOURCE, ts_utc: 'yesterday' })).toBe('INVALID_ENVELOPE:ts_utc');
  });
});
