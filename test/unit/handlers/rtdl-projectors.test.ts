import { pinnedRunIdOf } from '../../../lib/contracts/projector-report.ts';
import './handler-environment.ts';
import './silent-logs.ts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as archiveWriter } from '../../../functions/archive-writer/archive-writer.ts';
import { handler as contextStore } from '../../../functions/context-store/context-store.ts';
import { handler as identityGraph } from '../../../functions/identity-graph/identity-graph.ts';
import { handler as onlineFeatures } from '../../../functions/online-features/online-features.ts';
import { check, evidence } from '../../../functions/run-lifecycle/rtdl-caught-up.ts';
import { DatabaseUnavailable } from '../../../lib/adapters/postgres/pool.ts';
import { inBatchTransaction, RecordUnstorable } from '../../../lib/adapters/postgres/projector-store.ts';
import { archiveBatch } from '../../../lib/archive-writer/archive-batch.ts';
import { publishArchiveWriterReport } from '../../../lib/archive-writer/reports.ts';
import {
  applyContextBatch,
  CONTEXT_EVENT_CLASSES,
  CONTEXT_TOPICS,
} from '../../../lib/context-store/intake.ts';
import { publishContextStoreReport } from '../../../lib/context-store/observability.ts';
import { queryContext } from '../../../lib/context-store/query.ts';
import { publishIdentityGraphReport } from '../../../lib/identity-graph/health.ts';
import {
  applyIdentityGraphBatch,
  DEFAULT_IDENTITY_GRAPH_SETTINGS,
} from '../../../lib/identity-graph/intake.ts';
import { linkedEntitiesQuery } from '../../../lib/identity-graph/query.ts';
import { applyOnlineFeatureBatch } from '../../../lib/online-features/intake.ts';
import { publishOnlineFeatureReport } from '../../../lib/online-features/observability.ts';
import { getFeatures } from '../../../lib/online-features/snapshot.ts';
import { checkCaughtUp, writeCaughtUpEvidence } from '../../../lib/run-lifecycle/rtdl-caught-up.ts';
import { loadFeaturePolicy } from '../../../lib/runtime/online-features-config.ts';
import { projectorConfig } from '../../../lib/runtime/rtdl-config.ts';
import { kinesisEvent, lambdaContext, taskEvent, taskFailure } from './factories.ts';

/**
 * The RTDL projector handlers (archive writer, identity graph, context store, online features: a stream trigger and
 * a task each) and P8's two tasks. Cores and adapters are replaced at their ports; the stores are markers that
 * say which pool and scope they were built on.
 */

// The handlers' loggers are built (silent: the core errors below are expected); loggers built later are not.
delete process.env.AWS_LAMBDA_LOG_LEVEL;

const deps = vi.hoisted(() => ({
  pool: { port: 'pool' },
  s3: { port: 's3' },
  documents: { write: async (key: string) => `s3://fraud-platform/${key}` },
  runScope: vi.fn(),
  setAside: vi.fn(async (_record: unknown, _error: unknown) => 's3://fraud-platform/poison.json'),
}));

vi.mock('../../../lib/adapters/projector-dependencies.ts', () => ({
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
}));
vi.mock('../../../lib/adapters/postgres/projector-store.ts', async (original) => ({
  ...(await original<object>()),
  inBatchTransaction: vi.fn(async (pool: unknown, work: (scope: unknown) => Promise<unknown>) =>
    work({ batch: pool }),
  ),
}));
vi.mock('../../../lib/adapters/archive-writer-stores.ts', () => ({
  postgresArchiveLedger: (pool: unknown) => ({ ledger: pool }),
  s3SegmentStore: (s3: unknown, bucket: string) => ({ segments: s3, bucket }),
  s3ArchiveGovernanceSink: (s3: unknown, bucket: string) => ({ governance: s3, bucket }),
}));
vi.mock('../../../lib/adapters/identity-graph-stores.ts', () => ({
  postgresIdentityGraphStore: (pool: unknown, streamId: string) => ({ store: 'ieg', pool, streamId }),
}));
vi.mock('../../../lib/adapters/context-store-stores.ts', () => ({
  postgresContextStore: (pool: unknown, streamId: string) => ({ store: 'csfb', pool, streamId }),
}));
vi.mock('../../../lib/adapters/online-features-stores.ts', () => ({
  postgresOnlineFeatureStore: (pool: unknown, streamId: string) => ({ store: 'ofp', pool, streamId }),
}));
vi.mock('../../../lib/adapters/online-features-digest.ts', () => ({
  featureStateDigest: async (_pool: unknown, streamId: string) => `digest of ${streamId}`,
}));
vi.mock('../../../lib/adapters/rtdl-progress.ts', () => ({
  caughtUpPorts: () => ({ port: 'caught-up' }),
  caughtUpEvidencePorts: (env: { PLATFORM_BUCKET: string }) => ({
    port: 'evidence',
    bucket: env.PLATFORM_BUCKET,
  }),
}));
vi.mock('../../../lib/archive-writer/archive-batch.ts', () => ({ archiveBatch: vi.fn() }));
vi.mock('../../../lib/archive-writer/reports.ts', async (original) => ({
  ...(await original<object>()),
  publishArchiveWriterReport: vi.fn(),
}));
vi.mock('../../../lib/identity-graph/intake.ts', async (original) => ({
  ...(await original<object>()),
  applyIdentityGraphBatch: vi.fn(),
}));
vi.mock('../../../lib/identity-graph/health.ts', async (original) => ({
  ...(await original<object>()),
  publishIdentityGraphReport: vi.fn(),
}));
vi.mock('../../../lib/identity-graph/query.ts', () => ({ linkedEntitiesQuery: vi.fn() }));
vi.mock('../../../lib/context-store/intake.ts', async (original) => ({
  ...(await original<object>()),
  applyContextBatch: vi.fn(),
}));
vi.mock('../../../lib/context-store/observability.ts', async (original) => ({
  ...(await original<object>()),
  publishContextStoreReport: vi.fn(),
}));
vi.mock('../../../lib/context-store/query.ts', () => ({ queryContext: vi.fn() }));
vi.mock('../../../lib/online-features/intake.ts', async (original) => ({
  ...(await original<object>()),
  applyOnlineFeatureBatch: vi.fn(),
}));
vi.mock('../../../lib/online-features/observability.ts', async (original) => ({
  ...(await original<object>()),
  publishOnlineFeatureReport: vi.fn(),
}));
vi.mock('../../../lib/online-features/snapshot.ts', async (original) => ({
  ...(await original<object>()),
  getFeatures: vi.fn(),
}));
vi.mock('../../../lib/run-lifecycle/rtdl-caught-up.ts', async (original) => ({
  ...(await original<object>()),
  checkCaughtUp: vi.fn(),
  writeCaughtUpEvidence: vi.fn(),
}));

const context = lambdaContext();
const RUN = 'platform_20260308T000000Z';
const OTHER = 'platform_20260309T000000Z';
const TRAFFIC = 'fp.bus.traffic.fraud.v1';
const REPORT = { component: 'x', counts: { seen: 1 } };

/** A Kinesis batch on `topic` (shard 2): an envelope with a 64-bit id, then bytes that are not JSON. */
function busEvent(topic = TRAFFIC) {
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

const DECODED = [
  {
    topic: TRAFFIC,
    partition: 2,
    offset: '49700',
    offset_kind: 'kinesis_sequence',
    data: '{"event_id":"e-1","flow_id":9000000000000000001}',
  },
  { topic: TRAFFIC, partition: 2, offset: '49701', offset_kind: 'kinesis_sequence', data: 'not json' },
];
const ENVELOPES = [{ event_id: 'e-1', flow_id: 9_000_000_000_000_000_001n }, undefined];
const ALL_FAILED = { batchItemFailures: [{ itemIdentifier: '49700' }, { itemIdentifier: '49701' }] };

beforeEach(() => {
  vi.clearAllMocks();
  deps.runScope.mockImplementation(async (base: string) => ({
    platformRunId: RUN,
    streamId: `${base}::${RUN}`,
  }));
});

describe('archive-writer (stream and task edges)', () => {
  it('stream: the whole batch goes to the core, with the run scope, the ports and the record positions', async () => {
    vi.mocked(archiveBatch).mockResolvedValue({ records: [], segments: [] });
    await expect(archiveWriter(busEvent(), context)).resolves.toEqual({ batchItemFailures: [] });
    expect(deps.runScope).toHaveBeenCalledWith('archive_writer.v0');
    const [ports, settings, records] = vi.mocked(archiveBatch).mock.calls[0] ?? [];
    expect(settings).toEqual({
      streamBase: 'archive_writer.v0',
      requiredPlatformRunId: RUN,
      provenance: projectorConfig('archive-writer').provenance,
    });
    expect(records).toEqual(DECODED);
    expect(ports).toMatchObject({
      ledger: { ledger: deps.pool },
      segments: { segments: deps.s3, bucket: 'fraud-platform' },
      governance: { governance: deps.s3, bucket: 'fraud-platform' },
      documents: deps.documents,
    });
    expect(ports?.now()).toBeInstanceOf(Date);
    expect(inBatchTransaction).not.toHaveBeenCalled();
  });

  it('stream: a core error (the ledger down) reports every record as a batch item failure', async () => {
    vi.mocked(archiveBatch).mockRejectedValue(new DatabaseUnavailable(new Error('ECONNREFUSED')));
    await expect(archiveWriter(busEvent(), context)).resolves.toEqual(ALL_FAILED);
  });

  it('stream: a record the core can never apply is set aside with the error, the rest archived', async () => {
    const unstorable = new RecordUnstorable(
      Object.assign(new Error('invalid byte sequence'), { code: '22021' }),
    );
    vi.mocked(archiveBatch).mockImplementation(async (_ports, _settings, records) => {
      if (records.some((r) => r.data === 'not json')) throw unstorable;
      return { records: [], segments: [] };
    });
    await expect(archiveWriter(busEvent(), context)).resolves.toEqual({ batchItemFailures: [] });
    expect(vi.mocked(archiveBatch).mock.calls.map((c) => c[2].map((r) => r.offset))).toEqual([
      ['49700', '49701'],
      ['49700'],
      ['49701'],
    ]);
    expect(deps.setAside).toHaveBeenCalledTimes(1);
    expect(deps.setAside).toHaveBeenCalledWith(
      expect.objectContaining({ offset: '49701', data: 'not json' }),
      unstorable,
    );
  });

  it('task: {action: report} publishes the run’s report and answers it', async () => {
    vi.mocked(publishArchiveWriterReport).mockResolvedValue(REPORT as never);
    await expect(
      archiveWriter(taskEvent({ action: 'report', platform_run_id: RUN }), context),
    ).resolves.toEqual(REPORT);
    const [ports, run] = vi.mocked(publishArchiveWriterReport).mock.calls[0] ?? [];
    expect(run).toBe(RUN);
    expect(ports).toMatchObject({ ledger: { ledger: deps.pool }, documents: deps.documents });
    expect(archiveBatch).not.toHaveBeenCalled();
  });

  it('task: an event that fails the schema is ARCHIVE_WRITER_REQUEST_INVALID (it answers no query)', async () => {
    for (const event of [
      { action: 'report', platform_run_id: 'yesterday' },
      { action: 'query', request: {} },
      {},
    ])
      expect((await taskFailure(archiveWriter(taskEvent(event), context))).name).toBe(
        'ARCHIVE_WRITER_REQUEST_INVALID',
      );
    expect(publishArchiveWriterReport).not.toHaveBeenCalled();
  });
});

/** The three projectors that apply a batch inside one Postgres transaction. */
const batchProjectors = [
  {
    name: 'identity-graph',
    handler: identityGraph,
    base: 'ieg.v0',
    store: 'ieg',
    apply: applyIdentityGraphBatch,
    settings: { ...DEFAULT_IDENTITY_GRAPH_SETTINGS, requiredPlatformRunId: RUN },
    invalid: 'IDENTITY_GRAPH_REQUEST_INVALID',
  },
  {
    name: 'context-store',
    handler: contextStore,
    base: 'csfb.v0',
    store: 'csfb',
    apply: applyContextBatch,
    settings: {
      requiredPlatformRunId: RUN,
      contextTopics: CONTEXT_TOPICS,
      contextEventClasses: CONTEXT_EVENT_CLASSES,
    },
    invalid: 'CONTEXT_STORE_REQUEST_INVALID',
  },
  {
    name: 'online-features',
    handler: onlineFeatures,
    base: 'ofp.v0',
    store: 'ofp',
    apply: applyOnlineFeatureBatch,
    settings: { requiredPlatformRunId: RUN, policy: loadFeaturePolicy() },
    invalid: 'ONLINE_FEATURES_REQUEST_INVALID',
  },
] as const;

describe.each(batchProjectors)('$name (stream edge)', ({ handler, base, store, apply, settings }) => {
  it('the decoded records go to the core in one batch transaction, on the store of the run’s scope', async () => {
    vi.mocked(apply).mockResolvedValue([]);
    await expect(handler(busEvent(), context)).resolves.toEqual({ batchItemFailures: [] });
    expect(deps.runScope).toHaveBeenCalledWith(base);
    expect(inBatchTransaction).toHaveBeenCalledTimes(1);
    expect(vi.mocked(inBatchTransaction).mock.calls[0]?.[0]).toBe(deps.pool);
    const [storeUsed, records, settingsUsed] = vi.mocked(apply).mock.calls[0] ?? [];
    expect(storeUsed).toEqual({ store, pool: { batch: deps.pool }, streamId: `${base}::${RUN}` });
    expect(records?.map(({ envelope, published_at_utc, ...position }) => position)).toEqual(DECODED);
    expect(records?.map((r) => r.envelope)).toEqual(ENVELOPES);
    expect(records?.[0]?.published_at_utc).toBe(new Date(1_796_612_400_000).toISOString());
    expect(settingsUsed).toEqual(settings);
  });

  it('no active run: the scope’s placeholder run goes to the core (every record a run-scope mismatch)', async () => {
    deps.runScope.mockResolvedValue({ platformRunId: '_no_active_run', streamId: `${base}::_no_active_run` });
    vi.mocked(apply).mockResolvedValue([]);
    await handler(busEvent(), context);
    expect(vi.mocked(apply).mock.calls[0]?.[2]).toMatchObject({ requiredPlatformRunId: '_no_active_run' });
    expect(vi.mocked(apply).mock.calls[0]?.[0]).toMatchObject({ streamId: `${base}::_no_active_run` });
  });

  it('a core error reports every record of the batch as a batch item failure', async () => {
    vi.mocked(apply).mockRejectedValue(new DatabaseUnavailable(new Error('ECONNRESET')));
    await expect(handler(busEvent(), context)).resolves.toEqual(ALL_FAILED);
  });

  it('a record Postgres refuses is set aside with the error; the batch is acknowledged', async () => {
    const unstorable = new RecordUnstorable(
      Object.assign(new Error('invalid byte sequence'), { code: '22021' }),
    );
    vi.mocked(apply).mockImplementation(async (_store, records) => {
      if (records.some((r) => r.offset === '49701')) throw unstorable;
      return [];
    });
    await expect(handler(busEvent(), context)).resolves.toEqual({ batchItemFailures: [] });
    expect(deps.setAside).toHaveBeenCalledTimes(1);
    expect(deps.setAside).toHaveBeenCalledWith(
      expect.objectContaining({ offset: '49701', data: 'not json' }),
      unstorable,
    );
  });

  it('the run scope unreadable (Postgres down) fails the whole batch before the core', async () => {
    deps.runScope.mockRejectedValue(new DatabaseUnavailable(new Error('ECONNREFUSED')));
    await expect(handler(busEvent(), context)).resolves.toEqual(ALL_FAILED);
    expect(apply).not.toHaveBeenCalled();
  });
});

describe('report tasks', () => {
  it('identity graph: the run’s stores, documents and graph thresholds', async () => {
    vi.mocked(publishIdentityGraphReport).mockResolvedValue(REPORT as never);
    await expect(
      identityGraph(taskEvent({ action: 'report', platform_run_id: RUN }), context),
    ).resolves.toEqual(REPORT);
    const [ports, run, thresholds] = vi.mocked(publishIdentityGraphReport).mock.calls[0] ?? [];
    expect(run).toBe(RUN);
    expect(ports?.storeFor(`ieg.v0::${RUN}`)).toEqual({
      store: 'ieg',
      pool: deps.pool,
      streamId: `ieg.v0::${RUN}`,
    });
    expect(ports?.documents).toBe(deps.documents);
    expect(ports?.now()).toBeInstanceOf(Date);
    expect(thresholds).toMatchObject({ amberApplyFailures: 1, redApplyFailures: 100 });
    expect(thresholds?.redWatermarkAgeSeconds).toBe(800_000_000);
    expect(deps.runScope).not.toHaveBeenCalled();
  });

  it('context store: the run’s stores, documents and context thresholds', async () => {
    vi.mocked(publishContextStoreReport).mockResolvedValue(REPORT as never);
    await expect(
      contextStore(taskEvent({ action: 'report', platform_run_id: RUN }), context),
    ).resolves.toEqual(REPORT);
    const [ports, run, thresholds] = vi.mocked(publishContextStoreReport).mock.calls[0] ?? [];
    expect(run).toBe(RUN);
    expect(ports?.storeFor('csfb.v0::s')).toEqual({ store: 'csfb', pool: deps.pool, streamId: 'csfb.v0::s' });
    expect(thresholds).toMatchObject({ redJoinMisses: 10, redBindingConflicts: 5, redApplyFailures: 10 });
  });

  it('online features: the run’s stores, the state digest and the watermark thresholds', async () => {
    vi.mocked(publishOnlineFeatureReport).mockResolvedValue(REPORT as never);
    await expect(
      onlineFeatures(taskEvent({ action: 'report', platform_run_id: RUN }), context),
    ).resolves.toEqual(REPORT);
    const [ports, run, thresholds] = vi.mocked(publishOnlineFeatureReport).mock.calls[0] ?? [];
    expect(run).toBe(RUN);
    expect(ports?.storeFor('ofp.v0::s')).toEqual({ store: 'ofp', pool: deps.pool, streamId: 'ofp.v0::s' });
    await expect(ports?.stateDigest('ofp.v0::s')).resolves.toBe('digest of ofp.v0::s');
    expect(thresholds).toEqual({
      amberWatermarkAgeSeconds: 500_000_000,
      redWatermarkAgeSeconds: 800_000_000,
    });
  });

  it('a core error keeps its reason code as the task error’s name', async () => {
    vi.mocked(publishContextStoreReport).mockRejectedValue(
      new DatabaseUnavailable(new Error('ECONNREFUSED')),
    );
    const failure = await taskFailure(
      contextStore(taskEvent({ action: 'report', platform_run_id: RUN }), context),
    );
    expect(failure).toEqual({ name: 'OPS_DB_UNAVAILABLE', message: 'the database is unavailable; retry' });
  });
});

describe('query tasks', () => {
  const request = { request_id: 'q-1', pins: { platform_run_id: OTHER } };

  it('identity graph linked_entities: the named run’s graph, else the active run’s', async () => {
    vi.mocked(linkedEntitiesQuery).mockResolvedValue({ status: 'OK' } as never);
    const answer = identityGraph(
      taskEvent({ action: 'linked_entities', platform_run_id: OTHER, request: { entity_id: 'e' } }),
      context,
    );
    await expect(answer).resolves.toEqual({ status: 'OK' });
    expect(vi.mocked(linkedEntitiesQuery).mock.calls[0]).toEqual([
      { store: 'ieg', pool: deps.pool, streamId: `ieg.v0::${OTHER}` },
      { entity_id: 'e' },
    ]);
    expect(deps.runScope).not.toHaveBeenCalled();
    await identityGraph(taskEvent({ action: 'linked_entities', request: { entity_id: 'e' } }), context);
    expect(deps.runScope).toHaveBeenCalledWith('ieg.v0');
    expect(vi.mocked(linkedEntitiesQuery).mock.calls[1]?.[0]).toMatchObject({ streamId: `ieg.v0::${RUN}` });
  });

  it('context store query: the run the request’s pins name, else the active run', async () => {
    vi.mocked(queryContext).mockResolvedValue({ status: 'READY' } as never);
    await expect(contextStore(taskEvent({ action: 'query', request }), context)).resolves.toEqual({
      status: 'READY',
    });
    const [store, asked, now] = vi.mocked(queryContext).mock.calls[0] ?? [];
    expect(store).toEqual({ store: 'csfb', pool: deps.pool, streamId: `csfb.v0::${OTHER}` });
    expect(asked).toEqual(request);
    expect(now).toBeInstanceOf(Date);
    expect(deps.runScope).not.toHaveBeenCalled();
    await contextStore(taskEvent({ action: 'query', request: { request_id: 'q-2' } }), context);
    expect(vi.mocked(queryContext).mock.calls[1]?.[0]).toMatchObject({ streamId: `csfb.v0::${RUN}` });
  });

  it('online features get_features: the task’s run first, then the pins, with the feature policy', async () => {
    vi.mocked(getFeatures).mockResolvedValue({ status: 'OK' } as never);
    await onlineFeatures(taskEvent({ action: 'get_features', platform_run_id: RUN, request }), context);
    const [store, asked, policy] = vi.mocked(getFeatures).mock.calls[0] ?? [];
    expect(store).toEqual({ store: 'ofp', pool: deps.pool, streamId: `ofp.v0::${RUN}` });
    expect(asked).toEqual(request);
    expect(policy).toEqual(loadFeaturePolicy());
    await onlineFeatures(taskEvent({ action: 'get_features', request }), context);
    expect(vi.mocked(getFeatures).mock.calls[1]?.[0]).toMatchObject({ streamId: `ofp.v0::${OTHER}` });
    expect(deps.runScope).not.toHaveBeenCalled();
  });

  it.each(batchProjectors)(
    '$name: an event that fails the schema is $invalid, no core called',
    async ({ handler, invalid }) => {
      for (const event of [
        { action: 'report', platform_run_id: 'yesterday' },
        { action: 'report', platform_run_id: RUN, extra: true },
        { action: 'drop_tables' },
        { action: 'linked_entities', platform_run_id: 'platform_1', request: {} },
      ]) {
        const failure = await taskFailure(handler(taskEvent(event), context));
        expect(failure.name, JSON.stringify(event)).toBe(invalid);
      }
      for (const core of [
        publishIdentityGraphReport,
        linkedEntitiesQuery,
        publishContextStoreReport,
        queryContext,
      ])
        expect(core).not.toHaveBeenCalled();
      expect(publishOnlineFeatureReport).not.toHaveBeenCalled();
      expect(getFeatures).not.toHaveBeenCalled();
    },
  );
});

describe('run-lifecycle P8 RTDL_CAUGHT_UP (task edge)', () => {
  it('check: the request, the progress ports and the configured timeout go to the core', async () => {
    const result = { caught_up: false, waited_seconds: 30, lagging: ['RTDL_LAGGING:x:y (accounted 0 of 1)'] };
    vi.mocked(checkCaughtUp).mockResolvedValue(result as never);
    await expect(check(taskEvent({ platform_run_id: RUN, since: null }), context)).resolves.toEqual(result);
    expect(vi.mocked(checkCaughtUp).mock.calls[0]).toEqual([
      { platform_run_id: RUN, since: null },
      { port: 'caught-up' },
      600,
    ]);
  });

  it('evidence: the request and the evidence ports go to the core', async () => {
    const answer = { caught_up: true, summary: 'ok', projectors: {}, evidence_ref: 's3://fraud-platform/x' };
    vi.mocked(writeCaughtUpEvidence).mockResolvedValue(answer);
    const report = (component: string) => ({
      component,
      platform_run_id: RUN,
      stream_id: `${component}::${RUN}`,
      generated_at_utc: '2026-03-08T01:00:00.000Z',
      counts: { seen: 0, applied: 0, duplicate: 0, skipped: 0, failed: 0 },
      health_state: 'GREEN',
      health_reasons: [],
      documents: {},
    });
    const request = {
      platform_run_id: RUN,
      caught_up: { caught_up: true, waited_seconds: 0, checks: [] },
      reports: ['archive-writer', 'identity-graph', 'context-store', 'online-features'].map(report),
    };
    await expect(evidence(taskEvent(request), context)).resolves.toEqual(answer);
    expect(vi.mocked(writeCaughtUpEvidence).mock.calls[0]).toEqual([
      request,
      { port: 'evidence', bucket: 'fraud-platform' },
    ]);
  });

  it('an event that fails its schema is RUN_PHASE_REQUEST_INVALID, the core not called', async () => {
    expect((await taskFailure(check(taskEvent({ platform_run_id: 'yesterday' }), context))).name).toBe(
      'RUN_PHASE_REQUEST_INVALID',
    );
    const short = {
      platform_run_id: RUN,
      caught_up: { caught_up: true, waited_seconds: 0, checks: [] },
      reports: [],
    };
    expect((await taskFailure(evidence(taskEvent(short), context))).name).toBe('RUN_PHASE_REQUEST_INVALID');
    expect(checkCaughtUp).not.toHaveBeenCalled();
    expect(writeCaughtUpEvidence).not.toHaveBeenCalled();
  });
});
