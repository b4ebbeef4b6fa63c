import { z } from 'zod';
import { streamFinishPorts } from '../../lib/adapters/world-streamer-dependencies.ts';
import { brokenStreamDetail, CaughtError, finishStream } from '../../lib/world-streamer/stream-finish.ts';
import { deps, env, logger, parseRequest, settings } from './world-streamer-context.ts';

const ports = streamFinishPorts(env, deps);

/**
 * world-streamer-stream-finish: the end of a stream session (control-ingress.md §4.1 steps 7–8): one StreamResult,
 * governance RUN_ENDED and the ready-record line (STREAMED is final; FAILED releases the READY for a retry).
 * `error` is what a Catch of the state machine caught (an output's loop that broke): the stream FAILED.
 */
const FinishEvent = z.looseObject({ error: CaughtError.optional() });

export const handler = async (event: unknown) => {
  const { error, ...rest } = parseRequest(FinishEvent, event);
  const input = error
    ? {
        ...rest,
        prepared: {
          status: 'FAILED',
          emitted: 0,
          reason: 'STREAM_FAILED',
          detail: brokenStreamDetail(error),
        },
      }
    : rest;
  const result = await finishStream(
    { readyRuns: await ports.readyRuns(), governance: ports.governance, clock: ports.clock },
    input,
    settings,
  );
  logger.info('stream finished', { ...result });
  return result;
};
