import './handler-environment.ts';
import './silent-logs.ts';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { handler as archiveWriter } from '../../../functions/archive-writer/archive-writer.ts';
import { handler as contextStore } from '../../../functions/context-store/context-store.ts';
import { handler as identityGraph } from '../../../functions/identity-graph/identity-graph.ts';
import { handler as onlineFeatures } from '../../../functions/online-features/online-features.ts';
import { contextRecord } from '../../support/context-store.ts';
import { trafficRecord } from '../../support/online-features.ts';
import { hostileValue, jsonText, Raw } from '../ingestion-gate/fuzz-inputs.ts';
import { lambdaContext } from './factories.ts';
import { fuzzParameters, RUNS } from './fuzz-runs.ts';
import { PROJECTOR_STREAMS } from './fuzzed-stream-handlers.ts';
import {
  busCase,
  busEvent,
  covers,
  PRID,
  type ProjectorHarness,
  projectorHarness,
  sumCounts,
  TOPICS,
} from './projector-fuzz.ts';
import { countsOf, OUTCOMES, SEEN, tally } from './projector-fuzz-accounting.ts';

/**
 * Fuzz: no record crashes an RTDL projector or vanishes. Each of the four runs its real bus edge and core on in-memory
 * ports (the projectors' in-memory stores and archive ledger, watched by projector-fuzz.ts's harness) and gets random
 * events. The bus edge's contract (lib/runtime/edge/bus-handler.ts): every record is accounted for by the core
 * (applied, or a skip or failure row, its checkpoint advanced), and only a store outage fails a batch — then as a
 * whole. (A record whose data Postgres refuses would be set aside; the in-memory stores refuse none, so none is.)
 */

// The handlers' loggers are built (silent); loggers built later are not.
delete process.env.AWS_LAMBDA_LOG_LEVEL;

const world = vi.hoisted(() => ({
  p: undefined as unknown as ProjectorHarness,
}));

// The RTDL projectors: their dependencies, one batch transaction (here: the records' own), their stores in memory.
vi.mock('../../../lib/adapters/projector-dependencies.ts', () => ({
  projectorDependencies: () => ({
    pool: async () => ({ port: 'pool' }),
    s3: { port: 's3' },
    documents: {
      write: async () => {
        throw new Error('the stream trigger writes no documents');
      },
    },
    runScope: async (base: string) => ({
      platformRunId: world.p.state.run,
      streamId: `${base}::${world.p.state.run}`,
    }),
    setAside: async (record: { offset: string }) => {
      world.p.setAside.push(record.offset);
      return `s3://fraud-platform/poison/${record.offset}.json`;
    },
    busOptions: (service: string) => ({
      service,
      streamPrefix: '',
      onPoison: async (record: { offset: string }) => {
        world.p.setAside.push(record.offset);
      },
    }),
  }),
}));
vi.mock('../../../lib/adapters/postgres/projector-store.ts', async (original) => ({
  ...(await original<object>()),
  inBatchTransaction: (pool: unknown, work: (scope: unknown) => Promise<unknown>) => work(pool),
}));
vi.mock('../../../lib/adapters/identity-graph-stores.ts', () => ({
  postgresIdentityGraphStore: (_pool: unknown, streamId: string) => world.p.graphStore(streamId),
}));
vi.mock('../../../lib/adapters/context-store-stores.ts', () => ({
  postgresContextStore: (_pool: unknown, streamId: string) => world.p.contextStore(streamId),
}));
vi.mock('../../../lib/adapters/online-features-stores.ts', () => ({
  postgresOnlineFeatureStore: (_pool: unknown, streamId: string) => world.p.featureStore(streamId),
}));
vi.mock('../../../lib/adapters/archive-writer-stores.ts', () => ({
  postgresArchiveLedger: () => world.p.archive.ledger.ledger,
  s3SegmentStore: () => world.p.archive.segments.store,
  s3ArchiveGovernanceSink: () => world.p.archive.governance.sink,
}));

/** Each projector's handler, by name. */
const HANDLERS = {
  'archive-writer': archiveWriter,
  'identity-graph': identityGraph,
  'context-store': contextStore,
  'online-features': onlineFeatures,
} as const;
/** The RTDL projectors fuzzed below, each with its handler and the topics its mappings consume. */
const PROJECTORS = PROJECTOR_STREAMS.map((projector) => ({
  ...projector,
  handler: HANDLERS[projector.name],
}));

const context = lambdaContext();

/** The deliveries of one case: the batch, then maybe the mapping's retry or the same events again. */
function deliveries(c: ReturnType<typeof busCase> extends fc.Arbitrary<infer C> ? C : never) {
  const data = c.picks.map((i) => c.data[i % c.data.length] as string);
  const first = busEvent(c.topic, c.shard, data, 49_000n);
  switch (c.redelivery) {
    case 'none':
      return [first];
    case 'retry':
      return [first, first];
    case 'new-offsets':
      return [first, busEvent(c.topic, c.shard, data, 59_000n)];
    case 'changed-data':
      return [first, busEvent(c.topic, c.shard, [...data.slice(1), data[0] as string], 49_000n)];
  }
}

const sequenceNumbers = (e: KinesisStreamEvent) => e.Records.map((r) => r.kinesis.sequenceNumber);

/** A projector's answer to a Kinesis event (its stream edge's: the batch item failures). */
async function streamAnswer(
  handler: (event: unknown, ctx: Context) => Promise<unknown>,
  e: KinesisStreamEvent,
) {
  return (await handler(e, context)) as KinesisStreamBatchResponse;
}

describe.each(PROJECTORS.filter((p) => p.name !== 'archive-writer'))(
  '$name (bus edge) under fuzz',
  ({ name, handler, topics }) => {
    const projector = name as keyof typeof SEEN;
    it('every record of a Kinesis event is accounted for in the store, or the whole batch is reported; never a throw', {
      timeout: Math.max(30_000, RUNS * 60),
    }, async () => {
      const seen = tally();
      await fc.assert(
        fc.asyncProperty(busCase(topics), async (c) => {
          const p = projectorHarness(c.run, c.outageAfter);
          world.p = p;
          for (const e of deliveries(c)) {
            const offsets = sequenceNumbers(e);
            const before = p.committed.length;
            const { batchItemFailures } = await streamAnswer(handler, e);
            const failed = batchItemFailures.map((f) => f.itemIdentifier);
            const written = p.committed.slice(before);
            const where = `${e.Records.length} records on ${c.topic}, run ${c.run}, outage ${c.outageAfter}`;
            seen.add('records', offsets.length);
            if (failed.length === 0) {
              // One committed transaction per record, in order, each moving the checkpoint over its record.
              expect(written.length, where).toBe(offsets.length);
              for (const [i, o] of offsets.entries())
                expect(covers(written[i], o), `${where}: record ${o}`).toBe(true);
            } else {
              seen.add('failedBatches');
              expect(c.outageAfter, `${where}: a batch failed with its store up`).toBeDefined();
              expect(failed, where).toEqual(offsets);
              expect(written.length, where).toBeLessThan(offsets.length);
              for (const [i, w] of written.entries())
                expect(covers(w, offsets[i] as string), where).toBe(true);
            }
          }
          // In-memory stores refuse no data: no record is poison (only data Postgres refuses can be).
          expect(p.setAside).toEqual([]);
          const counts = await countsOf[projector](p);
          expect(counts[SEEN[projector]] ?? 0).toBe(p.committed.length);
          for (const outcome of OUTCOMES[projector]) seen.add(outcome, counts[outcome] ?? 0);
        }),
        fuzzParameters(RUNS),
      );
      expect(seen.counts.records).toBeGreaterThanOrEqual(RUNS);
      for (const [what, n] of Object.entries(seen.counts)) expect(n, what).toBeGreaterThan(5);
    });
  },
);

describe('archive-writer (bus edge) under fuzz', () => {
  const archive = { ...PROJECTOR_STREAMS[0], handler: archiveWriter };
  const totals = (p: ProjectorHarness) =>
    sumCounts([...p.archive.ledger.state.counters.values()].map((c) => ({ [c.metric]: c.delta })));

  it('every record is archived, judged or skipped and counted, or the whole batch is reported; never a throw', {
    timeout: Math.max(30_000, RUNS * 60),
  }, async () => {
    const seen = tally();
    await fc.assert(
      fc.asyncProperty(busCase(archive.topics), async (c) => {
        const p = projectorHarness(c.run, c.outageAfter);
        world.p = p;
        p.archiveOutage();
        for (const e of deliveries(c)) {
          const offsets = sequenceNumbers(e);
          const before = totals(p);
          const { batchItemFailures } = await streamAnswer(archive.handler, e);
          const after = totals(p);
          const delta = (metric: string) => (after[metric] ?? 0) - (before[metric] ?? 0);
          const where = `${e.Records.length} records on ${c.topic}, run ${c.run}, outage ${c.outageAfter}`;
          seen.add('records', offsets.length);
          if (batchItemFailures.length === 0) {
            expect(delta('seen_total'), where).toBe(offsets.length);
            const judged = ['archived_total', 'duplicate_total', 'payload_mismatch_total', 'skipped_total'];
            expect(
              judged.reduce((n, m) => n + delta(m), 0),
              where,
            ).toBe(offsets.length);
          } else {
            seen.add('failedBatches');
            expect(c.outageAfter, `${where}: a batch failed with its store up`).toBeDefined();
            expect(
              batchItemFailures.map((f) => f.itemIdentifier),
              where,
            ).toEqual(offsets);
            expect(delta('seen_total'), `${where}: a failed batch committed`).toBe(0);
          }
        }
        expect(p.setAside).toEqual([]);
        // Every ledger row points at its record's line in a segment object that exists.
        for (const row of p.archive.ledger.state.rows.values()) {
          const line = p.archive.segments.read(row.archive_ref);
          expect(line, row.archive_ref).toBeDefined();
          expect(JSON.parse(line as string)).toMatchObject({
            event_id: row.event_id,
            origin_offset: { topic: row.topic, partition: row.partition_id, offset: row.offset_value },
          });
        }
        const counts = totals(p);
        for (const m of [
          'archived_total',
          'duplicate_total',
          'payload_mismatch_total',
          'skipped_total',
          'write_error_total',
        ])
          seen.add(m, counts[m] ?? 0);
      }),
      fuzzParameters(RUNS),
    );
    expect(seen.counts.records).toBeGreaterThanOrEqual(RUNS);
    for (const [what, n] of Object.entries(seen.counts)) expect(n, what).toBeGreaterThan(5);
  });
});

describe('RTDL projectors: an event that is not a Kinesis batch', () => {
  it.each(PROJECTORS)(
    '$name: a broken Kinesis shell is a ParseError, anything else a task refused; nothing written',
    async ({ handler }) => {
      const valid = busEvent(
        TOPICS.traffic,
        0,
        [Buffer.from(jsonText({ event_id: 'e-1' })).toString('base64')],
        49_000n,
      );
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
          { action: 'report' },
          { action: 'report', platform_run_id: 'yesterday' },
        ),
        fc.constantFrom(...Object.keys(shell)).map((k) => ({ Records: [{ ...shell, [k]: undefined }] })),
        fc
          .constantFrom(...Object.keys(kinesis))
          .map((k) => ({ Records: [{ ...shell, kinesis: { ...kinesis, [k]: undefined } }] })),
        fc
          .constantFrom('%%%', 'not base64!', '\u0000')
          .map((data) => ({ Records: [{ ...shell, kinesis: { ...kinesis, data } }] })),
        hostileValue.map((v) => ({ Records: v })),
      );
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(broken, async (input) => {
          world.p = projectorHarness(PRID, undefined);
          const kinesisShaped =
            Array.isArray((input as { Records?: unknown } | null)?.Records) &&
            ((input as { Records: { eventSource?: unknown }[] }).Records[0] ?? null)?.eventSource ===
              'aws:kinesis';
          try {
            await handler(input as KinesisStreamEvent, context);
            throw new Error('a broken event was taken');
          } catch (error) {
            refused++;
            expect((error as Error).name).toEqual(
              kinesisShaped ? 'ParseError' : expect.stringMatching(/^[A-Z_]+_REQUEST_INVALID$/),
            );
            expect(world.p.committed).toEqual([]);
            expect(world.p.archive.ledger.state.counters.size).toBe(0);
          }
        }),
        fuzzParameters(Math.ceil(RUNS / 3)),
      );
      expect(refused).toBe(Math.ceil(RUNS / 3));
    },
  );
});

/**
 * An envelope whose payload nests deeper than canonical JSON holds (1000 levels) would pass every check and then make
 * the payload hash throw in the core, failing its batch on every delivery. The bus edge reads data nested over 512
 * deep as malformed (like non-JSON), so each projector accounts for it as it does any malformed record.
 */
describe('RTDL projectors: a payload nested deeper than canonical JSON holds', () => {
  const deep = (base: Record<string, unknown>) =>
    Buffer.from(
      jsonText({
        ...base,
        payload: { ...(base.payload as object), notes: new Raw(`${'['.repeat(1_100)}1${']'.repeat(1_100)}`) },
      }),
    ).toString('base64');

  it.each(PROJECTORS)('$name accounts for it like any other record', async ({ name, handler, topics }) => {
    world.p = projectorHarness(PRID, undefined);
    const base =
      name === 'context-store' ? contextRecord('arrival_events_5B').envelope : trafficRecord().envelope;
    const e = busEvent(topics[0], 0, [deep(base)], 49_000n);
    await expect(handler(e, context)).resolves.toEqual({ batchItemFailures: [] });
  });
});
