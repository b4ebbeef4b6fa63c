import { vi } from 'vitest';
import { pinnedRunIdOf } from '../../../lib/contracts/projector-report.ts';
import { kinesisEvent } from './factories.ts';

/**
 * What the RTDL handler tests (archive-writer-handler, rtdl-projector-streams, rtdl-projector-tasks) share: the
 * projectors' dependencies as markers and spies, and a Kinesis batch of two records with what the edge decodes from
 * it. A test file mocks lib/adapters/projector-dependencies.ts with `projectorDependenciesModule` (imported in the
 * vi.mock factory) and reads `deps` to see what the handler asked for.
 */

export const RUN = 'platform_20260308T000000Z';
export const OTHER = 'platform_20260309T000000Z';
export const TRAFFIC = 'fp.bus.traffic.fraud.v1';
/** What a mocked report core answers. */
export const REPORT = { component: 'x', counts: { seen: 1 } };

/** The ports the handlers are built on: a pool and an S3 client as markers, the run scope and the set-aside spied. */
export const deps = {
  pool: { port: 'pool' },
  s3: { port: 's3' },
  documents: { write: async (key: string) => `s3://fraud-platform/${key}` },
  runScope: vi.fn(),
  setAside: vi.fn(async (_record: unknown, _error: unknown) => 's3://fraud-platform/poison.json'),
};

/** lib/adapters/projector-dependencies.ts as the handlers see it, on `deps`. */
export const projectorDependenciesModule = {
  projectorDependencies: () => ({
    pool: async () => deps.pool,
    s3: deps.s3,
    documents: deps.documents,
    runScope: deps.runScope,
    setAside: deps.setAside,
    // As the adapter builds them from the two above: the query's named run first, then the batch's scope.
    queryScope: async (base: string, task: { platform_run_id?: string; request: unknown }) => {
      const named = task.platform_run_id ?? pinnedRunIdOf(task.request);
      return named ? { platformRunId: named, streamId: `${base}::${named}` } : deps.runScope(base);
    },
    busOptions: (service: string) => ({
      service,
      streamPrefix: '',
      onPoison: async (record: unknown, error: unknown) => {
        await deps.setAside(record, error);
      },
    }),
  }),
};

/** The batch's run scope: RUN, as the active run (each test starts from it). */
export function scopeToRun() {
  deps.runScope.mockImplementation(async (base: string) => ({
    platformRunId: RUN,
    streamId: `${base}::${RUN}`,
  }));
}

/** A Kinesis batch on `topic` (shard 2): an envelope with a 64-bit id, then bytes that are not JSON. */
export function busEvent(topic = TRAFFIC) {
  const event = kinesisEvent([
    { data: '{"event_id":"e-1","flow_id":9000000000000000001}', sequenceNumber: '49700' },
    { data: 'not json', sequenceNumber: '49701' },
  ]);
  for (const r of event.Records) {
    r.eventSourceARN = `arn:aws:kinesis:us-east-1:000000000000:stream/${topic}`;
    r.eventID = `shardId-000000000002:${r.kinesis.sequenceNumber}`;
  }
  return event;
}

/** The records the edge decodes from busEvent(): their positions and data. */
export const DECODED = [
  {
    topic: TRAFFIC,
    partition: 2,
    offset: '49700',
    offset_kind: 'kinesis_sequence',
    data: '{"event_id":"e-1","flow_id":9000000000000000001}',
  },
  { topic: TRAFFIC, partition: 2, offset: '49701', offset_kind: 'kinesis_sequence', data: 'not json' },
];
/** The envelopes the bus edge parses from them (losslessly: the 64-bit id a bigint; not JSON, none). */
export const ENVELOPES = [{ event_id: 'e-1', flow_id: 9_000_000_000_000_000_001n }, undefined];
/** Every record of busEvent() reported as a batch item failure. */
export const ALL_FAILED = { batchItemFailures: [{ itemIdentifier: '49700' }, { itemIdentifier: '49701' }] };
