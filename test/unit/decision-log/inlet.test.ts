import { describe, expect, it } from 'vitest';
import { DECISION_LOG_TOPIC } from '../../../lib/contracts/decision-log.ts';
import { payloadHash } from '../../../lib/contracts/identity.ts';
import { inletVerdict } from '../../../lib/decision-log/inlet.ts';
import {
  busRecord,
  decisionEnvelope,
  decisionIdOf,
  intentEnvelope,
  OTHER_RUN,
  outcomeEnvelope,
  pinsOf,
  RUN,
} from './fixtures.ts';

/**
 * The §3.4 inlet: each rejection on its own, and the order that matters — the run scope is judged before the event
 * family (another run's unknown event is RUN_SCOPE_MISMATCH, not UNKNOWN_EVENT_FAMILY), pins before the run scope.
 */

const settings = { requiredPlatformRunId: RUN, admittedTopics: [DECISION_LOG_TOPIC] };
const D = decisionIdOf('inlet');
const verdictOf = (envelope: unknown, topic: string = DECISION_LOG_TOPIC) =>
  inletVerdict(busRecord(1, envelope, { topic }), settings);
const reasonOf = (envelope: unknown, topic?: string) => {
  const verdict = verdictOf(envelope, topic);
  return verdict.accepted ? 'ACCEPTED' : verdict.reason;
};

describe('decision log inlet', () => {
  it('accepts the three families at v1 with their contract payloads, hashing {event_type, schema_version, payload}', () => {
    for (const envelope of [decisionEnvelope(D), intentEnvelope(D), outcomeEnvelope(D)]) {
      const verdict = verdictOf(envelope);
      expect(verdict.accepted).toBe(true);
      if (!verdict.accepted) continue;
      expect(verdict.candidate).toMatchObject({
        event_type: envelope.event_type,
        event_id: envelope.event_id,
        decision_id: D,
        payload_hash: payloadHash(envelope),
        pins: { platform_run_id: RUN },
      });
    }
  });

  it.each([
    ['a JSON array', [1, 2]],
    ['not JSON at all', undefined],
    ['a field the closed envelope does not know', { ...decisionEnvelope(D), extra: 1 }],
    ['ts_utc without six fractional digits', { ...decisionEnvelope(D), ts_utc: '2026-12-07T10:00:00Z' }],
  ])('INVALID_ENVELOPE: %s', (_name, envelope) => {
    expect(reasonOf(envelope)).toBe('INVALID_ENVELOPE');
  });

  it('NON_AUDIT_TOPIC: a valid decision read from another topic', () => {
    expect(reasonOf(decisionEnvelope(D), 'fp.bus.traffic.fraud.v1')).toBe('NON_AUDIT_TOPIC');
  });

  it('MISSING_REQUIRED_PINS names each missing pin, and is judged before the run scope', () => {
    const { seed: _seed, scenario_id: _scenario, ...withoutTwo } = decisionEnvelope(D);
    const verdict = verdictOf(withoutTwo);
    expect(verdict).toMatchObject({
      accepted: false,
      reason: 'MISSING_REQUIRED_PINS',
      detail: 'seed,scenario_id',
    });
    const { platform_run_id: _run, ...noRun } = decisionEnvelope(D, { pins: pinsOf(OTHER_RUN) });
    expect(reasonOf(noRun)).toBe('MISSING_REQUIRED_PINS');
  });

  it('RUN_SCOPE_MISMATCH before the family check: another run, whatever its type or version', () => {
    const other = decisionEnvelope(D, { pins: pinsOf(OTHER_RUN) });
    expect(verdictOf(other)).toMatchObject({
      accepted: false,
      reason: 'RUN_SCOPE_MISMATCH',
      facts: { platform_run_id: OTHER_RUN, event_type: 'decision_response' },
    });
    expect(reasonOf({ ...other, event_type: 'case_trigger' })).toBe('RUN_SCOPE_MISMATCH');
    expect(reasonOf({ ...other, schema_version: 'v9' })).toBe('RUN_SCOPE_MISMATCH');
    // No run required: every run is in scope.
    expect(inletVerdict(busRecord(1, other), { admittedTopics: [DECISION_LOG_TOPIC] }).accepted).toBe(true);
  });

  it('UNKNOWN_EVENT_FAMILY: an in-scope event that is not a decision, intent or outcome', () => {
    expect(reasonOf({ ...decisionEnvelope(D), event_type: 'case_trigger' })).toBe('UNKNOWN_EVENT_FAMILY');
  });

  it('SCHEMA_VERSION_REQUIRED, then SCHEMA_VERSION_NOT_ALLOWED (only v1)', () => {
    const { schema_version: _v, ...unversioned } = intentEnvelope(D);
    expect(reasonOf(unversioned)).toBe('SCHEMA_VERSION_REQUIRED');
    expect(reasonOf({ ...intentEnvelope(D), schema_version: '  ' })).toBe('SCHEMA_VERSION_REQUIRED');
    expect(reasonOf({ ...intentEnvelope(D), schema_version: 'v2' })).toBe('SCHEMA_VERSION_NOT_ALLOWED');
  });

  it('MISSING_EVENT_ID: a blank event id (an absent one is not a canonical envelope)', () => {
    expect(reasonOf({ ...outcomeEnvelope(D), event_id: '   ' })).toBe('MISSING_EVENT_ID');
    const { event_id: _id, ...noId } = outcomeEnvelope(D);
    expect(reasonOf(noId)).toBe('INVALID_ENVELOPE');
  });

  it('PAYLOAD_CONTRACT_INVALID: no payload, a payload off its contract, or pins other than the envelope names', () => {
    const { payload: _p, ...noPayload } = decisionEnvelope(D);
    expect(reasonOf(noPayload)).toBe('PAYLOAD_CONTRACT_INVALID');
    const intent = intentEnvelope(D);
    expect(reasonOf({ ...intent, payload: { ...intent.payload, action_id: 'not-hex' } })).toBe(
      'PAYLOAD_CONTRACT_INVALID',
    );
    const outcome = outcomeEnvelope(D);
    expect(reasonOf({ ...outcome, payload: { ...outcome.payload, status: 'MAYBE' } })).toBe(
      'PAYLOAD_CONTRACT_INVALID',
    );
    const decision = decisionEnvelope(D);
    const verdict = verdictOf({
      ...decision,
      payload: { ...decision.payload, pins: pinsOf(RUN, { seed: 7 }) },
    });
    expect(verdict).toMatchObject({
      reason: 'PAYLOAD_CONTRACT_INVALID',
      detail: expect.stringContaining('seed'),
    });
  });

  it('facts of a reject keep only storable texts (no control characters)', () => {
    const verdict = verdictOf({
      event_id: 'bad\u0000id',
      event_type: 'decision_response',
      platform_run_id: RUN,
    });
    expect(verdict).toMatchObject({
      accepted: false,
      reason: 'INVALID_ENVELOPE',
      facts: { event_id: null, event_type: 'decision_response', platform_run_id: RUN },
    });
  });
});
