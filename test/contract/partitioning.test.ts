import { describe, expect, it } from 'vitest';
import { pyFloat } from '../../lib/contracts/canonical-json.ts';
import {
  EVENT_CLASS_BY_TYPE,
  eventClassOf,
  PARTITION_PROFILES,
  PartitionKeyMissing,
  partitionKey,
  partitionProfileIdFor,
  REQUIRED_PINS,
  routeEnvelope,
} from '../../lib/contracts/partitioning.ts';

/** Golden keys are Python 3.11 `hashlib.sha256(str(value).encode()).hexdigest()`. */
const EVENT_ID = 'c20e21fc01d4bb0d2008f35d5c5a12aa771f1cb8b9b64bf8081ec9a2245de148';
const TRAFFIC = PARTITION_PROFILES['ig.partitioning.v0.traffic.fraud'].keyPrecedence;

describe('IG routing and partition keys (control-ingress.md §5.6)', () => {
  it('golden (recipe of spec §9 check 12): PartitionKey = sha256(str(flow_id)) on fp.bus.traffic.fraud.v1', () => {
    const route = routeEnvelope({
      event_type: 's3_event_stream_with_fraud_6B',
      event_id: EVENT_ID,
      payload: { flow_id: 9007199254740993n, merchant_id: 7 },
    });
    expect(route).toEqual({
      eventClass: 'traffic_fraud',
      profileId: 'ig.partitioning.v0.traffic.fraud',
      stream: 'fp.bus.traffic.fraud.v1',
      partitionKey: 'a1c367c29158357e62a3ff5d3e800fb7698a22396439dbc0a9d4929322afd35d',
    });
  });

  it('golden: skips null and "" but not 0; floats and booleans use Python str()', () => {
    expect(partitionKey(TRAFFIC, { event_id: EVENT_ID, payload: { flow_id: null, merchant_id: 0 } })).toBe(
      '5feceb66ffc86f38d952786c6d696c79c2dbc239dd4e91b46729d73a27fb57e9',
    );
    expect(partitionKey(TRAFFIC, { event_id: EVENT_ID, payload: { flow_id: '', account_id: 1e16 } })).toBe(
      'a144838520595009e7daf5aff8472573f9ce6a4bcd8c30673675618883464ab0',
    );
    expect(partitionKey(TRAFFIC, { event_id: EVENT_ID, payload: { party_id: true } })).toBe(
      '3cbc87c7681f34db4617feaa2c8801931bc5e42d8d0f560e756dd4cd92885f18',
    );
    expect(partitionKey(TRAFFIC, { event_id: EVENT_ID, payload: null })).toBe(
      '13631bf27826a364bffdbdb7dff89c94524868d5f04871b5806a1181dcaec59a',
    );
    expect(partitionKey(['payload.a'], { payload: { a: pyFloat(1e16) } })).toBe(
      'a144838520595009e7daf5aff8472573f9ce6a4bcd8c30673675618883464ab0',
    );
  });

  it('nested paths stop at non-objects; nothing found is PARTITION_KEY_MISSING', () => {
    const rtdl = PARTITION_PROFILES['ig.partitioning.v0.rtdl.decision'].keyPrecedence;
    expect(() => partitionKey(rtdl, { payload: { source_event: 'flat' } })).toThrow(PartitionKeyMissing);
    expect(() => partitionKey(TRAFFIC, { payload: {} })).toThrow(/PARTITION_KEY_MISSING/);
  });

  it('class map: engine types, rtdl, audit; unmapped types are traffic on the default profile', () => {
    expect(eventClassOf('arrival_events_5B')).toBe('context_arrival');
    expect(eventClassOf('ig.quarantine.spike')).toBe('audit');
    expect(eventClassOf('toString')).toBe('traffic');
    expect(eventClassOf('no_such_type')).toBe('traffic');
    expect(partitionProfileIdFor('traffic')).toBe('ig.partitioning.v0.traffic');
    expect(PARTITION_PROFILES[partitionProfileIdFor('case_trigger')].stream).toBe('fp.bus.case.v1');
    for (const eventType of Object.keys(EVENT_CLASS_BY_TYPE)) {
      const cls = eventClassOf(eventType);
      expect(PARTITION_PROFILES[partitionProfileIdFor(cls)], eventType).toBeDefined();
      expect(REQUIRED_PINS[cls].length, eventType).toBeGreaterThanOrEqual(3);
    }
    expect(REQUIRED_PINS.traffic_fraud).toContain('run_id');
    expect(REQUIRED_PINS.rtdl_decision).not.toContain('run_id');
    expect(REQUIRED_PINS.audit).toEqual(['platform_run_id', 'scenario_run_id', 'manifest_fingerprint']);
  });
});
