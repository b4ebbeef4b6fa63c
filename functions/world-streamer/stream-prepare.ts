import { streamPreparePorts } from '../../lib/adapters/world-streamer-dependencies.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { StreamRunInput } from '../../lib/world-streamer/stream-contracts.ts';
import { prepareRunStream } from '../../lib/world-streamer/stream-plan.ts';
import { deps, settings, streamTask, wsp } from './world-streamer-context.ts';

const ports = streamPreparePorts(wsp, deps);

/**
 * world-streamer-stream-prepare: the stream checks and the plan (control-ingress.md §4.2, §4.3). Answers
 * `{kind: "plan", plan}` or `{kind: "failed", result}`; the state machine maps over `plan.outputs`.
 */
export const handler = taskHandler(
  StreamRunInput,
  async (input, { logger }) => {
    const prepared = await prepareRunStream(ports, input, settings);
    if (prepared.kind === 'failed')
      logger.warn('stream checks failed', { session: input.session_id, ...prepared.result });
    else
      logger.info('stream planned', {
        session: input.session_id,
        outputs: prepared.plan.outputs.map((o) => o.output_id),
        packKey: prepared.plan.pack_key,
        streamSettings: prepared.plan.stream_settings ?? 'deployment defaults',
      });
    return prepared;
  },
  streamTask,
);
