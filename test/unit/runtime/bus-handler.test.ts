import type { KinesisStreamEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { PlatformError } from '../../../lib/errors/platform-error.ts';
import {
  type BusRecord,
  busBatchHandler,
  busRecordOf,
  partitionOf,
  topicOf,
} from '../../../lib/runtime/edge/bus-handler.ts';
import type { Edge } from '../../../lib/runtime/edge/edge-common.ts';
import { kinesisEvent, lambdaContext } from '../handlers/factories.ts';

/**
 * The RTDL projectors' bus edge (lib/runtime/edge/bus-handler.ts): every record of a Kinesis event becomes a
 * BusRecord (topic without the stage prefix, shard number, sequence number, text, lossless JSON or undefined), the
 * core gets the whole batch, and a core that throws fails the whole batch — unless it throws a non-retryable
 * PlatformError and the handler sets poison aside: then the records are applied one at a time and the poison one set
 * aside.
 */

const ARN = (name: string) => `arn:aws:kinesis:us-east-1:000000000000:stream/${name}`;
const context = lambdaContext();

/** A Kinesis event on stream `name`, shard `shard`, whose records carry `texts`. */
function busEvent(texts: readonly string[], name = 'fraud-platform-dev-fp.bus.traffic.fraud.v1', shard = 3) {
  const event = kinesisEvent(texts.map((data, i) => ({ data, sequenceNumber: String(49_600 + i) })));
  for (const r of event.Records) {
    r.eventSourceARN = ARN(name);
    r.eventID = `shardId-${String(shard).padStart(12, '0')}:${r.kinesis.sequenceNumber}`;
  }
  return event;
}

type KinesisRecord = Parameters<typeof busRecordOf>[0];

/** Record `i` of an event (as the factory built it; a test that asks for a missing one fails). */
function at(event: KinesisStreamEvent, i = 0) {
  const record = event.Records[i];
  if (!record) throw new Error(`the event has no record ${i}`);
  return record;
}
const recordOf = (event: KinesisStreamEvent, i = 0) => at(event, i) as unknown as KinesisRecord;

describe('topicOf', () => {
  it('strips the stage prefix from the stream name', () => {
    expect(topicOf(ARN('fraud-platform-dev-fp.bus.traffic.fraud.v1'), 'fraud-platform-dev-')).toBe(
      'fp.bus.traffic.fraud.v1',
    );
  });

  it('keeps the name as it is when the prefix is empty or not its prefix', () => {
    expect(topicOf(ARN('fp.bus.rtdl.v1'), '')).toBe('fp.bus.rtdl.v1');
    expect(topicOf(ARN('fp.bus.rtdl.v1'), 'fraud-platform-prod-')).toBe('fp.bus.rtdl.v1');
  });

  it('throws on a string that is not a Kinesis stream ARN, quoting it', () => {
    expect(() => topicOf('arn:aws:sqs:us-east-1:000000000000:queue', '')).toThrow(
      /not a Kinesis stream ARN: arn:aws:sqs/,
    );
    expect(() => topicOf(`${ARN('a')}/consumer/x`, '')).toThrow(/not a Kinesis stream ARN/);
    expect(() => topicOf('', '')).toThrow(/not a Kinesis stream ARN/);
  });

  it('quotes at most 200 characters of a hostile ARN', () => {
    try {
      topicOf('x'.repeat(10_000), '');
      expect.unreachable('topicOf accepted a non-ARN');
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(260);
    }
  });
});

describe('partitionOf', () => {
  it('is the integer suffix of the shard id', () => {
    expect(partitionOf('shardId-000000000003:4960000')).toBe(3);
    expect(partitionOf('shardId-000000000000:1')).toBe(0);
    expect(partitionOf('shardId-000000000012:49590338271490256608559692538361571095921575989136588898')).toBe(
      12,
    );
  });

  it('is 0 when the event id names no shard', () => {
    expect(partitionOf('not-a-shard:1')).toBe(0);
    expect(partitionOf('shardId-000000000003')).toBe(0);
    expect(partitionOf('')).toBe(0);
  });
});

describe('busRecordOf', () => {
  it('decodes the data and gives topic, partition, offset and arrival time', () => {
    const event = busEvent(['{"event_id":"e-1","amount":12.5}']);
    expect(busRecordOf(recordOf(event), 'fraud-platform-dev-')).toEqual({
      topic: 'fp.bus.traffic.fraud.v1',
      partition: 3,
      offset: '49600',
      offset_kind: 'kinesis_sequence',
      published_at_utc: new Date(1_796_612_400_000).toISOString(),
      data: '{"event_id":"e-1","amount":12.5}',
      envelope: { event_id: 'e-1', amount: 12.5 },
    });
  });

  it('published_at_utc is the approximate arrival time, sub-second kept', () => {
    const event = busEvent(['{}']);
    at(event).kinesis.approximateArrivalTimestamp = 1_772_928_063.25;
    expect(busRecordOf(recordOf(event), '').published_at_utc).toBe('2026-03-08T00:01:03.250Z');
  });

  it('keeps 64-bit integers exact (bigint), small ones as numbers', () => {
    const text = '{"merchant_id":18446744073709551000,"flow_id":9000000000000000001,"seq":7}';
    const record = busRecordOf(recordOf(busEvent([text])), '');
    expect(record.envelope).toEqual({
      merchant_id: 18_446_744_073_709_551_000n,
      flow_id: 9_000_000_000_000_000_001n,
      seq: 7,
    });
    expect(record.data).toBe(text);
  });

  it('the envelope is undefined when the data is not JSON; the text is kept', () => {
    for (const text of ['not json {', '', '{"a":1} trailing', '\u0000']) {
      const record = busRecordOf(recordOf(busEvent([text])), '');
      expect(record.envelope, text).toBeUndefined();
      expect(record.data, text).toBe(text);
    }
  });

  it('bytes that are not UTF-8 become replacement characters, and no envelope', () => {
    const event = busEvent(['x']);
    at(event).kinesis.data = Buffer.from([0xff, 0xfe, 0x7b]).toString('base64');
    const record = busRecordOf(recordOf(event), '');
    expect(record.data).toBe('\ufffd\ufffd{');
    expect(record.envelope).toBeUndefined();
  });

  it('JSON that is not an object is still an envelope (the core judges it)', () => {
    expect(busRecordOf(recordOf(busEvent(['[1,2]'])), '').envelope).toEqual([1, 2]);
    expect(busRecordOf(recordOf(busEvent(['"text"'])), '').envelope).toBe('text');
  });
});

describe('busBatchHandler', () => {
  it('hands every record of the batch, in order, to the core and reports no failure', async () => {
    const core = vi.fn(async (_records: BusRecord[], _edge: Edge) => undefined);
    const handler = busBatchHandler(core, { service: 'bus-test', streamPrefix: 'fraud-platform-dev-' });
    const answer = await handler(busEvent(['{"n":1}', 'garbage', '{"n":3}']), context);
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(core).toHaveBeenCalledTimes(1);
    const [records, edge] = core.mock.calls[0] ?? [];
    expect(records?.map((r) => [r.topic, r.partition, r.offset, r.envelope])).toEqual([
      ['fp.bus.traffic.fraud.v1', 3, '49600', { n: 1 }],
      ['fp.bus.traffic.fraud.v1', 3, '49601', undefined],
      ['fp.bus.traffic.fraud.v1', 3, '49602', { n: 3 }],
    ]);
    expect(edge?.context.awsRequestId).toBe(context.awsRequestId);
  });

  it('a core that throws: every record of the batch is a batch item failure, and the error is logged', async () => {
    const errors: unknown[] = [];
    const handler = busBatchHandler(
      async (_records, { logger }) => {
        vi.spyOn(logger, 'error').mockImplementation((...args: unknown[]) => void errors.push(args));
        throw new Error('store down');
      },
      { service: 'bus-test', streamPrefix: '' },
    );
    const answer = await handler(busEvent(['{"n":1}', '{"n":2}', '{"n":3}']), context);
    expect(answer.batchItemFailures).toEqual([
      { itemIdentifier: '49600' },
      { itemIdentifier: '49601' },
      { itemIdentifier: '49602' },
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toEqual([
      'bus batch not applied; the mapping retries it',
      expect.objectContaining({ first_sequence_number: '49600', records: 3 }),
    ]);
  });

  it('a record whose ARN names no stream: the batch is not acknowledged, the core not called', async () => {
    vi.stubEnv('LOG_LEVEL', 'SILENT'); // the edge may log the failure; nothing here reads it
    const core = vi.fn(async () => undefined);
    const handler = busBatchHandler(core, { service: 'bus-test', streamPrefix: '' });
    vi.unstubAllEnvs();
    const event = busEvent(['{"n":1}', '{"n":2}']);
    at(event, 1).eventSourceARN = 'arn:aws:sqs:us-east-1:000000000000:q';
    const answer = await handler(event, context).catch((error: Error) => error);
    // The mapping retries the batch either way: every record reported, or the invocation failed naming the ARN.
    if (answer instanceof Error) expect(answer.message).toMatch(/not a Kinesis stream ARN: arn:aws:sqs/);
    else expect(answer.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['49600', '49601']);
    expect(core).not.toHaveBeenCalled();
  });

  it('an event that is not a Kinesis event throws ParseError before the core runs', async () => {
    const core = vi.fn(async () => undefined);
    const handler = busBatchHandler(core, { service: 'bus-test', streamPrefix: '' });
    const valid = busEvent(['{}']);
    const notBase64 = busEvent(['{}']);
    at(notBase64).kinesis.data = '%%% not base64';
    for (const event of [
      {},
      { Records: [] },
      { action: 'report' },
      notBase64,
      { Records: [{ ...valid.Records[0], eventSource: 'aws:sqs' }] },
    ]) {
      await expect(handler(event, context), JSON.stringify(event).slice(0, 80)).rejects.toMatchObject({
        name: 'ParseError',
      });
    }
    expect(core).not.toHaveBeenCalled();
  });
});

describe('busBatchHandler with onPoison', () => {
  const poison = () => new PlatformError('RECORD_UNSTORABLE', 'refused', { detail: 'SQLSTATE 22021' });
  const storeDown = () => new PlatformError('OPS_DB_UNAVAILABLE', 'down', { retryable: true });

  /** A core that fails, for the batches containing a record whose data is in `bad`, with `error`. */
  function coreFailingOn(bad: Record<string, () => Error>) {
    const batches: string[][] = [];
    const core = vi.fn(async (records: BusRecord[]) => {
      batches.push(records.map((r) => r.data));
      const hit = records.find((r) => bad[r.data]);
      if (hit) throw (bad[hit.data] as () => Error)();
    });
    return { core, batches };
  }

  function poisonHandler(core: (records: BusRecord[], edge: Edge) => Promise<void>) {
    vi.stubEnv('LOG_LEVEL', 'SILENT');
    const setAside: [BusRecord, PlatformError][] = [];
    const handler = busBatchHandler(core, {
      service: 'bus-test',
      streamPrefix: '',
      onPoison: async (record, error) => {
        setAside.push([record, error]);
      },
    });
    vi.unstubAllEnvs();
    return { handler, setAside };
  }

  it('a record no retry can apply is found by applying one at a time, set aside; the others applied', async () => {
    const { core, batches } = coreFailingOn({ '{"n":2}': poison });
    const { handler, setAside } = poisonHandler(core);
    const answer = await handler(busEvent(['{"n":1}', '{"n":2}', '{"n":3}']), context);
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(batches).toEqual([['{"n":1}', '{"n":2}', '{"n":3}'], ['{"n":1}'], ['{"n":2}'], ['{"n":3}']]);
    expect(setAside.map(([record, error]) => [record.offset, record.data, error.code])).toEqual([
      ['49601', '{"n":2}', 'RECORD_UNSTORABLE'],
    ]);
  });

  it('a retryable failure while applying one at a time reports the batch from that record', async () => {
    let calls = 0;
    const core = vi.fn(async (records: BusRecord[]) => {
      calls++;
      if (calls === 1) throw poison(); // the whole batch: some record is poison
      if (records[0]?.data === '{"n":3}') throw storeDown(); // then the store goes down
    });
    const { handler, setAside } = poisonHandler(core);
    const answer = await handler(busEvent(['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']), context);
    expect(answer.batchItemFailures).toEqual([{ itemIdentifier: '49602' }, { itemIdentifier: '49603' }]);
    expect(setAside).toEqual([]);
  });

  it('a retryable or unknown error fails the whole batch at once, nothing set aside', async () => {
    for (const error of [storeDown, () => new TypeError('bug')]) {
      const { core, batches } = coreFailingOn({ '{"n":1}': error });
      const { handler, setAside } = poisonHandler(core);
      const answer = await handler(busEvent(['{"n":1}', '{"n":2}']), context);
      expect(answer.batchItemFailures).toHaveLength(2);
      expect(batches).toHaveLength(1);
      expect(setAside).toEqual([]);
    }
  });

  it('without onPoison a non-retryable error fails the whole batch like any other', async () => {
    vi.stubEnv('LOG_LEVEL', 'SILENT');
    const { core, batches } = coreFailingOn({ '{"n":2}': poison });
    const handler = busBatchHandler(core, { service: 'bus-test', streamPrefix: '' });
    vi.unstubAllEnvs();
    const answer = await handler(busEvent(['{"n":1}', '{"n":2}']), context);
    expect(answer.batchItemFailures).toHaveLength(2);
    expect(batches).toHaveLength(1);
  });
});
