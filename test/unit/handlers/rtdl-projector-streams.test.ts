import './handler-environment.ts';
import './silent-logs.ts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as contextStore } from '../../../functions/context-store/context-store.ts';
import { handler as identityGraph } from '../../../functions/identity-graph/identity-graph.ts';
import { handler as onlineFeatures } from '../../../functions/online-features/online-features.ts';
import { DatabaseUnavailable } from '../../../lib/adapters/postgres/pool.ts';
import { inBatchTransaction, RecordUnstorable } from '../../../lib/adapters/postgres/projector-store.ts';
import {
  applyContextBatch,
  CONTEXT_EVENT_CLASSES,
  CONTEXT_TOPICS,
} from '../../../lib/context-store/intake.ts';
import {
  applyIdentityGraphBatch,
  DEFAULT_IDENTITY_GRAPH_SETTINGS,
} from '../../../lib/identity-graph/intake.ts';
import { applyOnlineFeatureBatch } from '../../../lib/online-features/intake.ts';
import { loadFeaturePolicy } from '../../../lib/runtime/online-features-config.ts';
import { lambdaContext } from './factories.ts';
import { ALL_FAILED, busEvent, DECODED, deps, ENVELOPES, RUN, scopeToRun } from './rtdl-handler-fakes.ts';

/**
 * The stream triggers of the three RTDL projectors that apply a batch inside one Postgres transaction (identity
 * graph, context store, online features): the decoded records go to the core in one batch transaction, on the store
 * of the run's scope; a core error fails the whole batch; a record Postgres refuses is set aside. The cores are
 * replaced; the stores are markers that say which pool and scope they were built on.
 */

// The handlers' loggers are built (silent: the core errors below are expected); loggers built later are not.
delete process.env.AWS_LAMBDA_LOG_LEVEL;

vi.mock('../../../lib/adapters/projector-dependencies.ts', () =>
  import('./rtdl-handler-fakes.ts').then((fakes) => fakes.projectorDependenciesModule),
);
vi.mock('../../../lib/adapters/postgres/projector-store.ts', async (original) => ({
  ...(await original<object>()),
  inBatchTransaction: vi.fn(async (pool: unknown, work: (scope: unknown) => Promise<unknown>) =>
    work({ batch: pool }),
  ),
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
vi.mock('../../../lib/identity-graph/intake.ts', async (original) => ({
  ...(await original<object>()),
  applyIdentityGraphBatch: vi.fn(),
}));
vi.mock('../../../lib/context-store/intake.ts', async (original) => ({
  ...(await original<object>()),
  applyContextBatch: vi.fn(),
}));
vi.mock('../../../lib/online-features/intake.ts', async (original) => ({
  ...(await original<object>()),
  applyOnlineFeatureBatch: vi.fn(),
}));

const context = lambdaContext();

beforeEach(() => {
  vi.clearAllMocks();
  scopeToRun();
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
  },
  {
    name: 'online-features',
    handler: onlineFeatures,
    base: 'ofp.v0',
    store: 'ofp',
    apply: applyOnlineFeatureBatch,
    settings: { requiredPlatformRunId: RUN, policy: loadFeaturePolicy() },
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
