import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { streamingPorts } from '../../lib/adapters/run-streaming-ports.ts';
import { ingestCommitted, StreamingRequest, streamingActive } from '../../lib/run-lifecycle/streaming.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { runStreamingEnvironment } from '../../lib/runtime/run-lifecycle-config.ts';

const env = platformEnvironment();
const arn = runStreamingEnvironment().STREAM_RUN_STATE_MACHINE_ARN;
const ports = streamingPorts(env, platformDependencies(env), arn);
const edge = { service: 'run-streaming', invalid: 'RUN_PHASE_REQUEST_INVALID' };

/** P6 STREAMING_ACTIVE: the stream-run execution named by the READY message exists and is running or done. */
export const active = taskHandler(
  StreamingRequest,
  async (request, { logger }) => {
    const result = await streamingActive(request, ports);
    logger.info('streaming active gate', { active: result.active, summary: result.summary });
    return result;
  },
  edge,
);

/** P7 INGEST_COMMITTED: the stream-run ended and every emitted event has a receipt. */
export const committed = taskHandler(
  StreamingRequest,
  async (request, { logger }) => {
    const result = await ingestCommitted(request, ports);
    logger.info('ingest committed gate', {
      committed: result.committed,
      summary: result.summary,
      alignment: result.alignment,
    });
    return result;
  },
  edge,
);
