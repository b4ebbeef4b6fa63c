import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { z } from 'zod';
import { putObjectOnce } from '../../lib/adapters/s3-objects.ts';
import { canonicalJson, parseJsonLossless } from '../../lib/contracts/canonical-json.ts';
import { CONTROL_TOPIC, ReadySignal } from '../../lib/contracts/ready.ts';
import { PoisonError, processInOrder } from '../../lib/runtime/ordered-batch.ts';
import { handleReady } from '../../lib/world-streamer/ready-consumer.ts';
import { deps, env, logger, ports, settings } from './world-streamer-context.ts';

/**
 * world-streamer-ready-consumer: the `sr-control-bus` event-source mapping (control-ingress.md §4.1). Each READY
 * is deduped by message_id and, when in scope, starts one `stream-run` execution. A record that is not a
 * control-bus READY with a valid payload can never succeed: it is set aside with its bytes as evidence and the
 * shard moves on; a dependency failure fails the record, so the mapping retries from it.
 */

const ControlEnvelope = z.looseObject({ topic: z.string(), payload: z.unknown() });

const readyDeps = async () => ({
  readyRuns: await ports.readyRuns(),
  facts: ports.facts,
  activeRun: ports.activeRun,
  starter: ports.starter,
  governance: ports.governance,
  clock: ports.clock,
});

function readyOf(record: KinesisStreamRecord): ReadySignal | undefined {
  const text = Buffer.from(record.kinesis.data, 'base64').toString('utf8');
  let parsed: unknown;
  try {
    parsed = parseJsonLossless(text);
  } catch (error) {
    throw new PoisonError(`not JSON: ${(error as Error).message}`);
  }
  const envelope = ControlEnvelope.safeParse(parsed);
  if (!envelope.success) throw new PoisonError('not a control-bus record (no topic)');
  if (envelope.data.topic !== CONTROL_TOPIC) return undefined;
  const ready = ReadySignal.safeParse(envelope.data.payload);
  if (!ready.success) {
    throw new PoisonError(
      `payload is not a run_ready_signal: ${ready.error.issues
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')
        .slice(0, 512)}`,
    );
  }
  return ready.data;
}

/** A rejected record's evidence, write-once in the platform bucket. */
async function setAside(record: KinesisStreamRecord, error: PoisonError): Promise<void> {
  const key = `wsp/control-bus-rejects/${record.kinesis.sequenceNumber}.json`;
  await putObjectOnce(
    deps.s3,
    env.PLATFORM_BUCKET,
    key,
    `${canonicalJson({
      event_source_arn: record.eventSourceARN,
      partition_key: record.kinesis.partitionKey,
      sequence_number: record.kinesis.sequenceNumber,
      reason: error.message,
      data_base64: record.kinesis.data,
    })}\n`,
  );
  logger.warn('control-bus record set aside', { key, reason: error.message });
}

export const handler = async (event: KinesisStreamEvent, context: Context) =>
  processInOrder(
    event,
    async (record) => {
      const ready = readyOf(record);
      if (!ready) {
        logger.info('control-bus record of another topic skipped', {
          sequenceNumber: record.kinesis.sequenceNumber,
        });
        return;
      }
      const outcome = await handleReady(await readyDeps(), ready, settings);
      if (outcome.status === 'SKIPPED_DUPLICATE') {
        logger.info('READY already handled', { status: outcome.status, messageId: outcome.messageId });
      } else {
        logger.info('READY handled', { ...outcome });
      }
    },
    { onPoison: setAside, context },
  );
