import { readyConsumerPorts } from '../../lib/adapters/world-streamer-dependencies.ts';
import { setAsideControlRecord } from '../../lib/adapters/world-streamer-stores.ts';
import { streamHandler } from '../../lib/runtime/edge/stream-handler.ts';
import { ControlBusRecord } from '../../lib/world-streamer/control-record.ts';
import { handleControlRecord } from '../../lib/world-streamer/ready-consumer.ts';
import { deps, env, service, settings, wsp } from './world-streamer-context.ts';

const ports = readyConsumerPorts(env, wsp, deps);

/**
 * world-streamer-ready-consumer: the `sr-control-bus` event-source mapping (control-ingress.md §4.1). Each READY
 * is deduped by message_id and, when in scope, starts one `stream-run` execution. A record that can never succeed
 * is set aside with its bytes as evidence and the shard moves on; a dependency failure fails the record, so the
 * mapping retries from it.
 */
export const handler = streamHandler(
  ControlBusRecord,
  async (record, { logger }) => {
    const outcome = await handleControlRecord(ports, record, settings);
    if (outcome) logger.info('READY handled', { ...outcome });
  },
  {
    service,
    onPoison: async (record, error, { logger }) => {
      const key = await setAsideControlRecord(deps.s3, env.PLATFORM_BUCKET, record, error.message);
      logger.warn('control-bus record set aside', { key, reason: error.message });
    },
  },
);
