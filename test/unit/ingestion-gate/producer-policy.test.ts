import { describe, expect, it } from 'vitest';
import { ConfigInvalid } from '../../../lib/errors/platform-error.ts';
import { refusal } from '../../../lib/ingestion-gate/producer-policy.ts';
import { parseApiKeys } from '../../../lib/runtime/api-key-config.ts';
import { ingestionGateEnvironment, producerPolicy } from '../../../lib/runtime/ingestion-gate-config.ts';

describe('IG producer policy (config/ingestion-gate/producer-policy.json)', () => {
  const policy = producerPolicy();

  it('world_streamer pushes traffic and context as svc:world_stream_producer, and nothing of the rtdl, case or audit topics', () => {
    for (const event_type of ['s3_event_stream_with_fraud_6B', 'arrival_events_5B', 'some_new_engine_output'])
      expect(
        refusal(policy, 'world_streamer', { event_type, producer: 'svc:world_stream_producer' }),
      ).toBeUndefined();
    for (const event_type of ['decision_response', 'action_intent', 'case_trigger', 'ig.audit.verify'])
      expect(refusal(policy, 'world_streamer', { event_type }), event_type).toMatch(/may not push/);
    expect(
      refusal(policy, 'world_streamer', { event_type: 'arrival_events_5B', producer: 'svc:df' }),
    ).toMatch(/producer/);
  });

  it('each downstream principal pushes its own classes only; operator and unknown principals push nothing', () => {
    expect(refusal(policy, 'decision_fabric', { event_type: 'decision_response' })).toBeUndefined();
    expect(refusal(policy, 'decision_fabric', { event_type: 'action_outcome' })).toMatch(/may not push/);
    expect(refusal(policy, 'action_layer', { event_type: 'action_outcome' })).toBeUndefined();
    expect(refusal(policy, 'case_trigger', { event_type: 'case_trigger' })).toBeUndefined();
    expect(refusal(policy, 'case_trigger', { event_type: 'ig.audit.verify' })).toMatch(/may not push/);
    expect(refusal(policy, 'operator', { event_type: 'case_trigger' })).toMatch(/may not push/);
    expect(refusal(policy, 'nobody', { event_type: 'case_trigger' })).toMatch(/no event type/);
    // No event_type: nothing to judge; admission quarantines it as ENVELOPE_INVALID.
    expect(refusal(policy, 'operator', { event_id: 'x' })).toBeUndefined();
  });

  it('a policy that does not parse fails the cold start with the path', () => {
    expect(() => producerPolicy({ policy_id: 'p', revision: 'r', principals: { 'Bad-Name': {} } })).toThrow(
      /principals/,
    );
  });
});

describe('API key lists: principal=key entries', () => {
  it('parses named entries; a bare key takes the given principal or is refused; errors never quote the key', () => {
    expect(parseApiKeys('world_streamer=k1, case_trigger=k2', undefined, 'IG_API_KEYS')).toEqual([
      { principal: 'world_streamer', key: 'k1' },
      { principal: 'case_trigger', key: 'k2' },
    ]);
    expect(parseApiKeys('only-a-key', 'scenario_submitter', 'SR_API_KEYS')).toEqual([
      { principal: 'scenario_submitter', key: 'only-a-key' },
    ]);
    for (const text of ['secret-bare-key', 'Bad=secret-value', 'world_streamer='])
      try {
        parseApiKeys(text, undefined, 'IG_API_KEYS');
        expect.unreachable(text);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigInvalid);
        expect((error as Error).message).not.toMatch(/secret/);
      }
  });

  it('the gate refuses to start with a bare key in IG_API_KEYS', () => {
    expect(() => ingestionGateEnvironment({ IG_API_KEYS: 'bare-key' })).toThrow(/principal=key/);
    expect(ingestionGateEnvironment({ IG_API_KEYS: 'world_streamer=k' }).IG_API_KEYS).toBe(
      'world_streamer=k',
    );
  });
});
