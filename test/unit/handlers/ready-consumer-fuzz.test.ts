import './handler-environment.ts';
import './silent-logs.ts';
import type { KinesisStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { handler as readyConsumer } from '../../../functions/world-streamer/ready-consumer.ts';
import { CONTROL_TOPIC } from '../../../lib/contracts/ready.ts';
import { ControlBusRecord } from '../../../lib/world-streamer/control-record.ts';
import { hostileValue, jsonText } from '../ingestion-gate/fuzz-inputs.ts';
import { lambdaContext } from './factories.ts';
import { fuzzParameters, RUNS } from './fuzz-runs.ts';
import { event, expected, type FactsMode, harness, PRID, ready, records } from './ready-consumer-fuzz.ts';

/**
 * Fuzz: no record crashes the World Streamer's ready consumer (the control bus's Kinesis trigger). It runs its real
 * edge and core on in-memory ports (the World Streamer fakes; S3 as a write-once map under the real set-aside
 * adapter) and gets random events. The stream edge's contract (lib/runtime/edge/stream-handler.ts): an event that is
 * not a Kinesis event fails as a whole (ParseError); within one, a record that can never succeed is set aside with
 * its bytes, one that failed otherwise is a batch item failure, and no record is dropped without a trace.
 */

// The handler's loggers are built (silent); loggers built later are not.
delete process.env.AWS_LAMBDA_LOG_LEVEL;

const world = vi.hoisted(() => ({
  h: undefined as unknown as ReturnType<typeof harness>,
}));

vi.mock('../../../lib/adapters/world-streamer-dependencies.ts', async (original) => ({
  ...(await original<object>()),
  readyConsumerPorts: () => ({
    clock: { now: () => world.h.time.clock.now() },
    readyRuns: async () => world.h.readyRuns.store,
    activeRun: { activePlatformRunId: async () => world.h.active },
    facts: { read: async (ref: string) => world.h.facts(ref) },
    governance: { emit: (event: never) => world.h.governance.sink.emit(event) },
    starter: { start: (name: string, input: never) => world.h.starter.starter.start(name, input) },
  }),
}));
vi.mock('../../../lib/adapters/world-streamer-stores.ts', async (original) => {
  const real = await original<typeof import('../../../lib/adapters/world-streamer-stores.ts')>();
  return {
    ...real,
    // The real adapter, its S3 client a write-once map.
    setAsideControlRecord: (_s3: unknown, bucket: string, record: never, reason: string) =>
      real.setAsideControlRecord(world.h.s3 as never, bucket, record, reason),
  };
});

const context = lambdaContext();

describe('world-streamer-ready-consumer (stream edge) under fuzz', () => {
  it('every record of a Kinesis event is taken, set aside with its bytes, or reported; the handler never throws', {
    timeout: Math.max(30_000, RUNS * 40),
  }, async () => {
    const seen = {
      records: 0,
      setAside: 0,
      ready: 0,
      otherTopic: 0,
      failures: 0,
      started: 0,
      readyFailed: 0,
    };
    await fc.assert(
      fc.asyncProperty(
        records,
        fc.constantFrom<FactsMode>('valid', 'valid', 'throws', 'garbage', 'absent'),
        fc.constantFrom(undefined, PRID, 'platform_20990101T000000Z'),
        async (rs, mode, active) => {
          world.h = harness(mode, active);
          const e = event(rs);
          const { batchItemFailures } = await readyConsumer(e, context);
          const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
          const blocked = new Set<string>();
          for (const r of e.Records) {
            const { sequenceNumber: seq, partitionKey: key, data } = r.kinesis;
            const where = `record ${seq} (${key}): ${Buffer.from(data, 'base64').toString('utf8').slice(0, 200)}`;
            seen.records++;
            // In order per partition key: after a failed record, the key's later records are reported too.
            if (blocked.has(key)) expect(failed.has(seq), where).toBe(true);
            if (failed.has(seq)) {
              blocked.add(key);
              seen.failures++;
              continue;
            }
            const aside = world.h.objects.get(`wsp/control-bus-rejects/${seq}.json`);
            if (aside !== undefined) {
              seen.setAside++;
              const evidence = JSON.parse(aside);
              expect(evidence, where).toMatchObject({
                data_base64: data,
                partition_key: key,
                sequence_number: seq,
              });
              expect(evidence.reason, where).toEqual(expect.stringMatching(/./));
              continue;
            }
            const verdict = expected(Buffer.from(data, 'base64').toString('utf8'));
            expect(verdict, `${where}: poison neither set aside nor reported`).not.toBe('poison');
            if (verdict === 'ready') {
              seen.ready++;
              const { payload } = ControlBusRecord.parse(Buffer.from(data, 'base64').toString('utf8'));
              const messageId = (payload as { message_id: string }).message_id;
              expect(world.h.readyRuns.state.has(messageId), `${where}: READY not claimed`).toBe(true);
            } else seen.otherTopic++;
          }
          seen.started += world.h.starter.executions.size;
          seen.readyFailed += world.h.readyRuns.lines.filter((l) => l.status === 'FAILED').length;
          for (const id of failed) expect(e.Records.some((r) => r.kinesis.sequenceNumber === id)).toBe(true);
          expect(world.h.objects.size).toBe(
            e.Records.filter((r) =>
              world.h.objects.has(`wsp/control-bus-rejects/${r.kinesis.sequenceNumber}.json`),
            ).length,
          );
        },
      ),
      fuzzParameters(RUNS),
    );
    expect(seen.records).toBeGreaterThanOrEqual(RUNS);
    for (const [what, n] of Object.entries(seen)) if (what !== 'failures') expect(n, what).toBeGreaterThan(5);
  });

  it('an event that is not a Kinesis event fails as a whole (ParseError) before any record runs', {
    timeout: Math.max(30_000, RUNS * 20),
  }, async () => {
    const valid = event([
      {
        data: Buffer.from(jsonText({ topic: CONTROL_TOPIC, payload: ready })).toString('base64'),
        partitionKey: 'a',
      },
    ]);
    const shell = valid.Records[0] as unknown as Record<string, unknown>;
    const kinesis = shell.kinesis as Record<string, unknown>;
    const broken = fc.oneof(
      fc.constantFrom<unknown>(
        null,
        {},
        [],
        'Records',
        { Records: [] },
        { Records: {} },
        { Records: [null] },
      ),
      fc.constantFrom(...Object.keys(shell)).map((k) => ({ Records: [{ ...shell, [k]: undefined }] })),
      fc
        .constantFrom(...Object.keys(kinesis))
        .map((k) => ({ Records: [{ ...shell, kinesis: { ...kinesis, [k]: undefined } }] })),
      fc
        .tuple(fc.constantFrom(...Object.keys(kinesis)), hostileValue)
        .map(([k, v]) => ({ Records: [shell, { ...shell, kinesis: { ...kinesis, [k]: v } }] })),
      fc
        .constantFrom('%%%', 'not base64!', '\u0000')
        .map((data) => ({ Records: [{ ...shell, kinesis: { ...kinesis, data } }] })),
      hostileValue.map((v) => ({ Records: v })),
    );
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(broken, async (input) => {
        world.h = harness('valid', undefined);
        try {
          // A shell the schema still takes (a hostile value it allows) is an event like any other.
          const answer = await readyConsumer(input as KinesisStreamEvent, context);
          expect(Array.isArray(answer.batchItemFailures)).toBe(true);
        } catch (error) {
          rejected++;
          expect((error as Error).name).toBe('ParseError');
          expect(world.h.objects.size + world.h.readyRuns.state.size).toBe(0);
        }
      }),
      fuzzParameters(Math.ceil(RUNS / 3)),
    );
    expect(rejected).toBeGreaterThan(RUNS / 10);
  });
});
