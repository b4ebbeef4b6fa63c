import { z } from 'zod';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { awsSubstrateProbe } from '../../lib/adapters/substrate-probe.ts';
import { assessSubstrate } from '../../lib/run-lifecycle/substrate-status.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';

const env = platformEnvironment();
const deps = platformDependencies(env);
const probe = awsSubstrateProbe({
  s3: deps.s3,
  kinesis: deps.kinesis,
  pool: deps.pool,
  dsn: deps.databaseUrl,
});
const requirements = {
  buckets: [env.ORACLE_STORE_BUCKET, env.PLATFORM_BUCKET],
  streams: env.REQUIRED_STREAMS,
};

/** P0 exit gate: reports, never throws, so the lifecycle can fail with the report's summary as its cause. */
export const handler = taskHandler(
  z.unknown(),
  async (_event, { logger }) => {
    const report = await assessSubstrate(requirements, probe);
    if (report.ready) logger.info('substrate ready', { summary: report.summary });
    else logger.warn('substrate not ready', { missing: report.missing, summary: report.summary });
    return report;
  },
  { service: 'substrate-status', invalid: 'RUN_PHASE_REQUEST_INVALID' },
);
