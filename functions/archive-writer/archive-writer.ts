import {
  postgresArchiveLedger,
  s3ArchiveGovernanceSink,
  s3SegmentStore,
} from '../../lib/adapters/archive-writer-stores.ts';
import { projectorDependencies } from '../../lib/adapters/projector-dependencies.ts';
import { archiveBatch } from '../../lib/archive-writer/archive-batch.ts';
import { ARCHIVE_WRITER_STREAM_BASE, publishArchiveWriterReport } from '../../lib/archive-writer/reports.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { busBatchHandler } from '../../lib/runtime/edge/bus-handler.ts';
import { byTrigger } from '../../lib/runtime/edge/by-trigger.ts';
import { projectorTaskHandler } from '../../lib/runtime/edge/projector-task.ts';
import { projectorConfig } from '../../lib/runtime/rtdl-config.ts';

const env = platformEnvironment();
const config = projectorConfig('archive-writer');
const deps = projectorDependencies(env, config);
const service = 'archive-writer';
const now = () => new Date();

const ports = async () => {
  const pool = await deps.pool();
  return {
    ledger: postgresArchiveLedger(pool),
    segments: s3SegmentStore(deps.s3, env.PLATFORM_BUCKET),
    governance: s3ArchiveGovernanceSink(deps.s3, env.PLATFORM_BUCKET),
    documents: deps.documents,
    now,
  };
};

/**
 * archive-writer (downstream.md §2.1): every topic's event-source mapping hands it whole batches — one write-once
 * segment per batch, the ledger judges NEW / DUPLICATE / PAYLOAD_MISMATCH. As a task (`{action: report}`, the P8
 * gate), it writes the run's metrics, health and reconciliation documents and answers its counts.
 */
export const handler = byTrigger({
  stream: busBatchHandler(async (records, { logger }) => {
    const scope = await deps.runScope(ARCHIVE_WRITER_STREAM_BASE);
    const outcome = await archiveBatch(
      await ports(),
      {
        streamBase: ARCHIVE_WRITER_STREAM_BASE,
        requiredPlatformRunId: scope.platformRunId,
        provenance: config.provenance,
      },
      records.map(({ topic, partition, offset, offset_kind, data }) => ({
        topic,
        partition,
        offset,
        offset_kind,
        data,
      })),
    );
    logger.info('batch archived', { records: outcome.records.length, segments: outcome.segments.length });
  }, deps.busOptions(service)),
  task: projectorTaskHandler({
    service,
    invalid: 'ARCHIVE_WRITER_REQUEST_INVALID',
    report: async (platformRunId) => publishArchiveWriterReport(await ports(), platformRunId),
  }),
});
