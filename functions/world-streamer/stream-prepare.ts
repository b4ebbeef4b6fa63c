import { StreamRunInput } from '../../lib/world-streamer/stream-contracts.ts';
import { prepareStream } from '../../lib/world-streamer/stream-plan.ts';
import { logger, parseRequest, ports, settings } from './world-streamer-context.ts';

/**
 * world-streamer-stream-prepare: the stream checks and the plan (control-ingress.md §4.2, §4.3). Answers
 * `{kind: "plan", plan}` or `{kind: "failed", result}`; the state machine maps over `plan.outputs`.
 */
export const handler = async (event: unknown) => {
  const input = parseRequest(StreamRunInput, event);
  const prepared = await prepareStream(
    { engineRuns: ports.engineRuns, allowlist: ports.allowlist },
    input,
    settings,
  );
  if (prepared.kind === 'failed') {
    logger.warn('stream checks failed', { session: input.session_id, ...prepared.result });
  } else {
    logger.info('stream planned', {
      session: input.session_id,
      outputs: prepared.plan.outputs.map((o) => o.output_id),
      packKey: prepared.plan.pack_key,
    });
  }
  return prepared;
};
