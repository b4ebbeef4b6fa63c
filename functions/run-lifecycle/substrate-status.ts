import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { awsSubstrateProbe } from '../../lib/adapters/substrate-probe.ts';
import { assessSubstrate, type SubstrateReport } from '../../lib/run-lifecycle/substrate-status.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { createLogger } from '../../lib/runtime/logger.ts';

const env = platformEnvironment();
const deps = platformDependencies(env);
const logger = createLogger('substrate-status');
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
export const handler = async (): Promise<SubstrateReport> => {
  const report = await assessSubstrate(requirements, probe);
  if (report.ready) logger.info('substrate ready', { summary: report.summary });
  else logger.warn('substrate not ready', { missing: report.missing, summary: report.summary });
  return report;
};
