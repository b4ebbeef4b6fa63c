import './handler-environment.ts';
import './silent-logs.ts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as contextStore } from '../../../functions/context-store/context-store.ts';
import { handler as identityGraph } from '../../../functions/identity-graph/identity-graph.ts';
import { handler as onlineFeatures } from '../../../functions/online-features/online-features.ts';
import { DatabaseUnavailable } from '../../../lib/adapters/postgres/pool.ts';
import { publishContextStoreReport } from '../../../lib/context-store/observability.ts';
import { queryContext } from '../../../lib/context-store/query.ts';
import { publishIdentityGraphReport } from '../../../lib/identity-graph/health.ts';
import { linkedEntitiesQuery } from '../../../lib/identity-graph/query.ts';
import { publishOnlineFeatureReport } from '../../../lib/online-features/observability.ts';
import { getFeatures } from '../../../lib/online-features/snapshot.ts';
import { loadFeaturePolicy } from '../../../lib/runtime/online-features-config.ts';
import { lambdaContext, taskEvent, taskFailure } from './factories.ts';
import { deps, OTHER, REPORT, RUN, scopeToRun } from './rtdl-handler-fakes.ts';

/**
 * The tasks of the three RTDL projectors that keep a queryable store (identity graph, context store, online
 * features): a report publishes the run's report with the projector's thresholds; a query reads the store of the run
 * it names, else of the active run; an event that fails the schema is refused before any core. The report and query
 * cores are replaced; the stores are markers that say which pool and scope they were built on.
 */

// The handlers' loggers are built (silent: the core errors below are expected); loggers built later are not.
delete process.env.AWS_LAMBDA_LOG_LEVEL;

vi.mock('../../../lib/adapters/projector-dependencies.ts', () =>
  import('./rtdl-handler-fakes.ts').then((fakes) => fakes.projectorDependenciesModule),
);
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
vi.mock('../../../lib/identity-graph/health.ts', async (original) => ({
  ...(await original<object>()),
  publishIdentityGraphReport: vi.fn(),
}));
vi.mock('../../../lib/identity-graph/query.ts', () => ({ linkedEntitiesQuery: vi.fn() }));
vi.mock('../../../lib/context-store/observability.ts', async (original) => ({
  ...(await original<object>()),
  publishContextStoreReport: vi.fn(),
}));
vi.mock('../../../lib/context-store/query.ts', () => ({ queryContext: vi.fn() }));
vi.mock('../../../lib/online-features/observability.ts', async (original) => ({
  ...(await original<object>()),
  publishOnlineFeatureReport: vi.fn(),
}));
vi.mock('../../../lib/online-features/snapshot.ts', async (original) => ({
  ...(await original<object>()),
  getFeatures: vi.fn(),
}));

const context = lambdaContext();

beforeEach(() => {
  vi.clearAllMocks();
  scopeToRun();
});

/** The three projectors with a query task, and the reason code each gives an event its schema refuses. */
const queryProjectors = [
  { name: 'identity-graph', handler: identityGraph, invalid: 'IDENTITY_GRAPH_REQUEST_INVALID' },
  { name: 'context-store', handler: contextStore, invalid: 'CONTEXT_STORE_REQUEST_INVALID' },
  { name: 'online-features', handler: onlineFeatures, invalid: 'ONLINE_FEATURES_REQUEST_INVALID' },
] as const;

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

  it.each(queryProjectors)(
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
