import type { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { kinesisEventBus } from '../../../lib/adapters/ingestion-gate-stores.ts';

/** A Kinesis client at the port: records what was sent, answers every record with a sequence number. */
function recordingClient() {
  const sent: Array<{ StreamName?: string; count: number }> = [];
  const client = {
    send: async (command: PutRecordsCommand) => {
      const records = command.input.Records ?? [];
      sent.push({ StreamName: command.input.StreamName, count: records.length });
      return {
        Records: records.map((_, i) => ({ ShardId: 'shardId-000000000000', SequenceNumber: String(i) })),
      };
    },
  } as unknown as KinesisClient;
  return { client, sent };
}

describe('kinesisEventBus', () => {
  it('publishes a topic to the stage-prefixed stream and answers one result per record', async () => {
    const { client, sent } = recordingClient();
    const bus = kinesisEventBus(client, 'fraud-platform-dev-');
    const out = await bus.publish('fp.bus.traffic.fraud.v1', [
      { partitionKey: 'a', data: '{"x":1}' },
      { partitionKey: 'b', data: '{"x":2}' },
    ]);
    expect(sent).toEqual([{ StreamName: 'fraud-platform-dev-fp.bus.traffic.fraud.v1', count: 2 }]);
    expect(out).toEqual([
      { shardId: 'shardId-000000000000', sequenceNumber: '0' },
      { shardId: 'shardId-000000000000', sequenceNumber: '1' },
    ]);
  });

  it('uses the topic as the stream name when there is no prefix (local, localstack)', async () => {
    const { client, sent } = recordingClient();
    await kinesisEventBus(client).publish('fp.bus.case.v1', [{ partitionKey: 'a', data: '{}' }]);
    expect(sent[0]?.StreamName).toBe('fp.bus.case.v1');
  });
});
