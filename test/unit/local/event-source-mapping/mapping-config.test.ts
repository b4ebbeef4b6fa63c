import { describe, expect, it } from 'vitest';
import { mappingsOf } from '../../../../local/event-source-mapping/mapping-config.ts';
import type { ServiceDefinition, ServiceFunction } from '../../../../local/service-definition.ts';

type StreamEvent = ServiceFunction['streamEvents'][number];

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/;

const streamEvent = (streamName: string, extra: Partial<StreamEvent> = {}): StreamEvent => ({
  arn: { 'Fn::GetAtt': ['TrafficStream', 'Arn'] },
  streamName,
  ...extra,
});

function service(functions: Array<{ name: string; events: StreamEvent[]; timeoutSeconds?: number }>) {
  const definition: ServiceDefinition = {
    service: 'fraud-platform',
    stage: 'local',
    region: 'eu-west-1',
    accountId: '123456789012',
    buckets: [],
    streams: [],
    functions: functions.map((f) => ({
      key: f.name,
      name: f.name,
      timeoutSeconds: f.timeoutSeconds ?? 6,
      streamEvents: f.events,
    })),
    stateMachines: [],
  };
  return definition;
}

function onlyMapping(event: StreamEvent) {
  const mappings = mappingsOf(service([{ name: 'fraud-local-score', events: [event] }]));
  expect(mappings).toHaveLength(1);
  const [mapping] = mappings;
  if (!mapping) throw new Error('no mapping');
  return mapping;
}

describe('mappingsOf', () => {
  it("fills AWS's defaults for a bare stream event", () => {
    const m = onlyMapping(streamEvent('fraud-local-traffic'));
    expect(m).toEqual({
      uuid: expect.stringMatching(UUID_V5),
      functionName: 'fraud-local-score',
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fraud-local-score',
      functionTimeoutMs: 6000,
      streamName: 'fraud-local-traffic',
      streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/fraud-local-traffic',
      batchSize: 100,
      batchWindowMs: 0,
      startingPosition: 'TRIM_HORIZON',
      startingPositionTimestamp: undefined,
      enabled: true,
      maximumRetryAttempts: -1,
      maximumRecordAgeSeconds: -1,
      bisectBatchOnFunctionError: false,
      parallelizationFactor: 1,
      reportBatchItemFailures: false,
      onFailure: undefined,
      unsupported: [],
    });
  });

  it('carries declared settings, with batchWindow seconds turned into milliseconds', () => {
    const m = onlyMapping(
      streamEvent('fraud-local-traffic', {
        batchSize: 250,
        batchWindow: 5,
        startingPosition: 'AT_TIMESTAMP',
        startingPositionTimestamp: 1767225600,
        enabled: false,
        maximumRetryAttempts: 3,
        maximumRecordAgeInSeconds: 3600,
        bisectBatchOnFunctionError: true,
        parallelizationFactor: 4,
        functionResponseType: 'ReportBatchItemFailures',
      }),
    );
    expect(m).toMatchObject({
      batchSize: 250,
      batchWindowMs: 5000,
      startingPosition: 'AT_TIMESTAMP',
      startingPositionTimestamp: 1767225600,
      enabled: false,
      maximumRetryAttempts: 3,
      maximumRecordAgeSeconds: 3600,
      bisectBatchOnFunctionError: true,
      parallelizationFactor: 4,
      reportBatchItemFailures: true,
    });
  });

  it('the function timeout is in milliseconds', () => {
    const [m] = mappingsOf(
      service([{ name: 'f', timeoutSeconds: 30, events: [streamEvent('fraud-local-traffic')] }]),
    );
    expect(m?.functionTimeoutMs).toBe(30_000);
  });

  it('an S3 bucket ARN on failure is an s3 destination with its bucket', () => {
    const arn = 'arn:aws:s3:::fraud-local-esm-failures';
    expect(onlyMapping(streamEvent('s', { destinations: { onFailure: arn } })).onFailure).toEqual({
      kind: 's3',
      arn,
      bucket: 'fraud-local-esm-failures',
    });
    expect(onlyMapping(streamEvent('s', { destinations: { onFailure: { arn } } })).onFailure).toEqual({
      kind: 's3',
      arn,
      bucket: 'fraud-local-esm-failures',
    });
  });

  it('an SQS or SNS ARN on failure falls back to a local file', () => {
    const sqs = 'arn:aws:sqs:eu-west-1:123456789012:fraud-dlq';
    const sns = 'arn:aws:sns:eu-west-1:123456789012:fraud-failures';
    expect(onlyMapping(streamEvent('s', { destinations: { onFailure: sqs } })).onFailure).toEqual({
      kind: 'local-file',
      arn: sqs,
    });
    expect(
      onlyMapping(streamEvent('s', { destinations: { onFailure: { arn: sns, type: 'sns' } } })).onFailure,
    ).toEqual({ kind: 'local-file', arn: sns });
  });

  it('lists a tumbling window as unsupported; 0 (no window) is not listed', () => {
    expect(onlyMapping(streamEvent('s', { tumblingWindowInSeconds: 60 })).unsupported).toEqual([
      'tumblingWindowInSeconds',
    ]);
    expect(onlyMapping(streamEvent('s', { tumblingWindowInSeconds: 0 })).unsupported).toEqual([]);
  });

  it('uuid is stable across calls and distinct per (function, stream, index)', () => {
    const def = service([
      { name: 'score', events: [streamEvent('traffic'), streamEvent('traffic'), streamEvent('context')] },
      { name: 'audit', events: [streamEvent('traffic')] },
    ]);
    const first = mappingsOf(def).map((m) => m.uuid);
    const again = mappingsOf(structuredClone(def)).map((m) => m.uuid);
    expect(again).toEqual(first);
    expect(first).toHaveLength(4);
    expect(new Set(first).size).toBe(4);
    for (const uuid of first) expect(uuid).toMatch(UUID_V5);
    // the uuid depends on the names, not on the object: a renamed function gets a new one
    const renamed = mappingsOf(service([{ name: 'score-v2', events: [streamEvent('traffic')] }]));
    expect(renamed[0]?.uuid).not.toBe(first[0]);
  });

  it('a service without stream events has no mappings', () => {
    expect(mappingsOf(service([{ name: 'http-only', events: [] }]))).toEqual([]);
  });
});
