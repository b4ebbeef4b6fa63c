import './handler-environment.ts';
import './silent-logs.ts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as archiveWriter } from '../../../functions/archive-writer/archive-writer.ts';
import { DatabaseUnavailable } from '../../../lib/adapters/postgres/pool.ts';
import { inBatchTransaction, RecordUnstorable } from '../../../lib/adapters/postgres/projector-store.ts';
import { archiveBatch } from '../../../lib/archive-writer/archive-batch.ts';
import { publishArchiveWriterReport } from '../../../lib/archive-writer/reports.ts';
import { projectorConfig } from '../../../lib/runtime/rtdl-config.ts';
import { lambdaContext, taskEvent, taskFailure } from './factories.ts';
import { ALL_FAILED, busEvent, DECODED, deps, REPORT, RUN, scopeToRun } from './rtdl-handler-fakes.ts';

/**
 * The archive writer's handler (functions/archive-writer/archive-writer.ts): its stream trigger hands the whole batch
 * to the core, outside a batch transaction; its task publishes a run's report. The core and the report are replaced;
 * the ledger, segment and governance stores are markers that say which pool, S3 client and bucket they were built on.
 */

// The handler's loggers are built (silent: the core errors below are expected); loggers built later are not.
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
vi.mock('../../../lib/adapters/archive-writer-stores.ts', () => ({
  postgresArchiveLedger: (pool: unknown) => ({ ledger: pool }),
  s3SegmentStore: (s3: unknown, bucket: string) => ({ segments: s3, bucket }),
  s3ArchiveGovernanceSink: (s3: unknown, bucket: string) => ({ governance: s3, bucket }),
}));
vi.mock('../../../lib/archive-writer/archive-batch.ts', () => ({ archiveBatch: vi.fn() }));
vi.mock('../../../lib/archive-writer/reports.ts', async (original) => ({
  ...(await original<object>()),
  publishArchiveWriterReport: vi.fn(),
}));

const context = lambdaContext();

beforeEach(() => {
  vi.clearAllMocks();
  scopeToRun();
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
