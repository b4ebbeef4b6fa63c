/**
 * A fraud-traffic envelope (`s3_event_stream_with_fraud_6B`) as the World Streamer pushes it: the seven pins, its
 * producer, and a 6B row whose flow_id is the partition key. Tests of the gate vary `overrides`.
 */
export function trafficEnvelope(
  eventId: string,
  platformRunId: string,
  flowId: number | bigint,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    event_id: eventId,
    event_type: 's3_event_stream_with_fraud_6B',
    ts_utc: '2026-03-08T00:01:03.106979Z',
    manifest_fingerprint: 'a'.repeat(64),
    parameter_hash: 'b'.repeat(64),
    seed: 42,
    scenario_id: 'baseline_v1',
    run_id: '1'.repeat(32),
    platform_run_id: platformRunId,
    scenario_run_id: '2'.repeat(32),
    producer: 'svc:world_stream_producer',
    payload: {
      flow_id: flowId,
      event_seq: 0,
      event_type: 'AUTH_REQUEST',
      ts_utc: '2026-03-08T00:01:03.106979',
      amount: 10.5,
      seed: 42,
      manifest_fingerprint: 'a'.repeat(64),
      parameter_hash: 'b'.repeat(64),
      scenario_id: 'baseline_v1',
      fraud_flag: false,
      campaign_id: null,
    },
    ...overrides,
  };
}
