import { streamFinishPorts } from '../../lib/adapters/world-streamer-dependencies.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { FinishEvent, finishStreamSession } from '../../lib/world-streamer/stream-finish.ts';
import { deps, env, settings, streamTask } from './world-streamer-context.ts';

const ports = streamFinishPorts(env, deps);

/**
 * world-streamer-stream-finish: the end of a stream session (control-ingress.md §4.1 steps 7–8): one StreamResult,
 * governance RUN_ENDED and the ready-record line (STREAMED is final; FAILED releases the READY for a retry).
 * `error` is what a Catch of the state machine caught (an output's loop that broke): the stream FAILED.
 */
export const handler = taskHandler(
  FinishEvent,
  async (event, { logger }) => {
    const { readyRuns, ...rest } = ports;
    const result = await finishStreamSession({ ...rest, readyRuns: await readyRuns() }, event, settings);
    logger.info('stream finished', { ...result });
    return result;
  },
  streamTask,
);
