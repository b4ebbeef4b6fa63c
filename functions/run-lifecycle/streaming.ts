import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { streamingPorts } from '../../lib/adapters/run-streaming-ports.ts';
import { ingestCommitted, streamingActive } from '../../lib/run-lifecycle/streaming.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { createLogger } from '../../lib/runtime/logger.ts';
import { runStreamingEnvironment } from '../../lib/runtime/run-lifecycle-config.ts';

const env = platformEnvironment();
const ports = streamingPorts(
  env,
  platformDependencies(env),
  runStreamingEnvironment().STREAM_RUN_STATE_MACHINE_ARN,
);
const logger = createLogger('run-streaming');

/** P6 STREAMING_ACTIVE: the stream-run execution named by the READY message exists and is running or done. */
export const active = async (event: unknown) => {
  const result = await streamingActive(event, ports);
  logger.info('streaming active gate', { active: result.active, summary: result.summary });
  return result;
};

/** P7 INGEST_COMMITTED: the stream-run ended and every emitted event has a receipt. */
export const committed = async (event: unknown) => {
  const result = await ingestCommitted(event, ports);
  logger.info('ingest committed gate', { committed: result.committed, summary: result.summary });
  return result;
};
