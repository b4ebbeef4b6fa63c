import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { readyConsumerPorts } from '../../lib/adapters/world-streamer-dependencies.ts';
import { setAsideControlRecord } from '../../lib/adapters/world-streamer-stores.ts';
import { processInOrder } from '../../lib/runtime/ordered-batch.ts';
import { readyOfRecord } from '../../lib/world-streamer/control-record.ts';
import { handleReady } from '../../lib/world-streamer/ready-consumer.ts';
import { deps, env, logger, settings, wsp } from './world-streamer-context.ts';

const ports = readyConsumerPorts(env, wsp, deps);

/**
 * world-streamer-ready-consumer: the `sr-control-bus` event-source mapping (control-ingress.md §4.1). Each READY
 * is deduped by message_id and, when in scope, starts one `stream-run` execution. A record that can never succeed
 * is set aside with its bytes as evidence and the shard moves on; a dependency failure fails the record, so the
 * mapping retries from it.
 */
export const handler = async (event: KinesisStreamEvent, context: Context) =>
  processInOrder(
    event,
    async (record) => {
      const ready = readyOfRecord(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
      if (!ready) return;
      const outcome = await handleReady({ ...ports, readyRuns: await ports.readyRuns() }, ready, settings);
      logger.info('READY handled', { ...outcome });
    },
    {
      onPoison: async (record, error) => {
        const key = await setAsideControlRecord(deps.s3, env.PLATFORM_BUCKET, record, error.message);
        logger.warn('control-bus record set aside', { key, reason: error.message });
      },
      context,
    },
  );
