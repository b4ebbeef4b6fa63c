import path from 'node:path';
import { KinesisDataStreamSchema } from '@aws-lambda-powertools/parser/schemas/kinesis';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import {
  GetEventSourceMappingCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MappingStatus } from '../../../local/event-source-mapping/poller.ts';
import { stackDown, stackUp } from '../../../local/stack.ts';
import type { StackConfig } from '../../../local/stack-config.ts';
import { ESM_FIXTURE_SCHEMA } from '../../fixtures/esm-service/schema.ts';
import { runScript } from '../../support/cli.ts';
import { clientsFor } from '../../support/clients.ts';
import { eventually } from '../../support/eventually.ts';
import { startTestStack, type TestStack } from '../../support/test-stack.ts';

// The ESM poller against kinesalite and real local Lambdas (test/fixtures/esm-service), AWS semantics.
let stack: TestStack;
let db: pg.Pool;
const fnName = (key: string) => `esm-fixture-local-${key}`;

async function put(
  stream: string,
  records: Array<{ key: string; body: Record<string, unknown> }>,
): Promise<void> {
  const { kinesis } = clientsFor(stack.state);
  for (let i = 0; i < records.length; i += 500) {
    const chunk = records.slice(i, i + 500);
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: chunk.map((r) => ({ PartitionKey: r.key, Data: Buffer.from(JSON.stringify(r.body)) })),
      }),
    );
    expect(out.FailedRecordCount).toBe(0);
  }
}

const count = async (sql: string, params: unknown[]) =>
  Number((await db.query<{ n: string }>(sql, params)).rows[0]?.n ?? 0);
const applied = (key: string) =>
  count('SELECT count(*) AS n FROM esm_applied WHERE function_name = $1', [fnName(key)]);

async function mappingOf(key: string): Promise<MappingStatus> {
  const res = await fetch(`${stack.state.endpoints.esm}/status`);
  const body = (await res.json()) as { mappings: MappingStatus[] };
  const m = body.mappings.find((x) => x.functionName === fnName(key));
  if (!m) throw new Error(`no mapping for ${key}`);
  return m;
}

async function failureObjects(uuid: string): Promise<Array<Record<string, unknown>>> {
  const { s3 } = clientsFor(stack.state);
  const list = await s3.send(
    new ListObjectsV2Command({ Bucket: 'esm-failures', Prefix: `aws/lambda/${uuid}/` }),
  );
  return Promise.all(
    (list.Contents ?? []).map(async (o) => {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'esm-failures', Key: o.Key }));
      return { key: o.Key, ...JSON.parse((await got.Body?.transformToString()) ?? '{}') };
    }),
  );
}

beforeAll(async () => {
  stack = await startTestStack(path.resolve('test/fixtures/esm-service'), 'esm');
  db = new pg.Pool({ connectionString: stack.state.databaseUrl, max: 2 });
  await db.query(ESM_FIXTURE_SCHEMA);
});
afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

describe('Kinesis event-source mappings on the local cloud', () => {
  it('delivers AWS’s event shape (Powertools KinesisDataStreamSchema)', async () => {
    const before = Date.now() / 1000;
    await put(
      'esm-shape',
      [0, 1, 2].map((i) => ({ key: `s-${i}`, body: { id: `shape-${i}`, i } })),
    );
    const rows = await eventually(async () => {
      const r = await db.query<{ valid: boolean; problems: string | null; event: unknown }>(
        'SELECT valid, problems, event FROM esm_events',
      );
      return r.rows.flatMap((x) => (x.event as { Records: unknown[] }).Records).length >= 3
        ? r.rows
        : undefined;
    }, 'shape events');
    for (const row of rows) expect(row.problems).toBeNull();
    expect(rows.every((r) => r.valid)).toBe(true);
    const event = KinesisDataStreamSchema.parse(rows[0]?.event);
    const first = event.Records[0];
    expect(first?.eventSource).toBe('aws:kinesis');
    expect(first?.eventSourceARN).toBe('arn:aws:kinesis:us-east-1:000000000000:stream/esm-shape');
    expect(first?.eventID).toBe(`shardId-000000000000:${first?.kinesis.sequenceNumber}`);
    expect(first?.kinesis.approximateArrivalTimestamp).toBeGreaterThan(before - 5);
    expect(first?.kinesis.approximateArrivalTimestamp).toBeLessThan(Date.now() / 1000 + 5);
  });

  it('resumes after a partial batch response at the failed record, applying each record once in order', async () => {
    const records = Array.from({ length: 10 }, (_, n) => ({
      key: 'partial-key',
      body: { id: `p-${n + 1}`, i: n + 1, failOnce: n + 1 === 4 },
    }));
    await put('esm-partial', records);
    await eventually(async () => ((await applied('partial')) === 10 ? true : undefined), '10 applied');
    const deliveries = await db.query<{ record_index: number; n: string }>(
      'SELECT record_index, count(*) AS n FROM esm_deliveries WHERE function_name = $1 GROUP BY record_index ORDER BY record_index',
      [fnName('partial')],
    );
    expect(deliveries.rows.map((r) => [r.record_index, Number(r.n)])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 2],
      [5, 2],
      [6, 2],
      [7, 2],
      [8, 2],
      [9, 2],
      [10, 2],
    ]);
    const order = await db.query<{ record_index: number }>(
      'SELECT record_index FROM esm_applied WHERE function_name = $1 ORDER BY id',
      [fnName('partial')],
    );
    expect(order.rows.map((r) => r.record_index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('bisects around a poison record: 99 applied, the poison in an S3 failure record', async () => {
    const records = Array.from({ length: 100 }, (_, n) => ({
      key: 'bisect-key',
      body: { id: `b-${n + 1}`, i: n + 1, poison: n === 37 },
    }));
    await put('esm-bisect', records);
    const mapping = await mappingOf('bisect');
    const [failure] = await eventually(async () => {
      const objects = await failureObjects(mapping.uuid);
      return objects.length > 0 ? objects : undefined;
    }, 'a failure record in S3');
    await eventually(async () => ((await applied('bisect')) === 99 ? true : undefined), '99 applied');
    const missing = await db.query<{ i: number }>(
      'SELECT i FROM generate_series(1, 100) AS i WHERE NOT EXISTS (SELECT 1 FROM esm_applied WHERE function_name = $1 AND record_index = i)',
      [fnName('bisect')],
    );
    expect(missing.rows.map((r) => r.i)).toEqual([38]);
    const poisonSeq = (
      await db.query<{ sequence_number: string }>(
        'SELECT sequence_number FROM esm_deliveries WHERE function_name = $1 AND record_index = 38 LIMIT 1',
        [fnName('bisect')],
      )
    ).rows[0]?.sequence_number;
    expect(String(failure?.key)).toMatch(
      new RegExp(
        `^aws/lambda/${mapping.uuid}/shardId-000000000000/\\d{4}/\\d{2}/\\d{2}/\\d{4}-\\d{2}-\\d{2}T\\d{2}\\.\\d{2}\\.\\d{2}-[0-9a-f-]{36}$`,
      ),
    );
    expect(failure).toMatchObject({
      version: '1.0',
      requestContext: {
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
        functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${fnName('bisect')}`,
      },
      responseContext: { statusCode: 200, functionError: 'Unhandled' },
      KinesisBatchInfo: {
        shardId: 'shardId-000000000000',
        startSequenceNumber: poisonSeq,
        endSequenceNumber: poisonSeq,
        batchSize: 1,
        streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/esm-bisect',
      },
    });
    const payload = JSON.parse(String(failure?.payload)) as { Records: Array<{ kinesis: { data: string } }> };
    expect(JSON.parse(Buffer.from(payload.Records[0]?.kinesis.data ?? '', 'base64').toString()).id).toBe(
      'b-38',
    );
  });

  it('UpdateEventSourceMapping (edge and poller port): disabled, records wait; enabled, they are delivered from the checkpoint in the new batch size', async () => {
    const lambdaAt = (endpoint: string) =>
      new LambdaClient({
        region: stack.state.region,
        endpoint,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
    const edge = lambdaAt(stack.state.endpoints.edge);
    const direct = lambdaAt(stack.state.endpoints.esm);
    const listed = await edge.send(new ListEventSourceMappingsCommand({ FunctionName: fnName('toggle') }));
    const uuid = listed.EventSourceMappings?.[0]?.UUID ?? 'missing';
    const stateIs = (wanted: string) => async () =>
      (await direct.send(new GetEventSourceMappingCommand({ UUID: uuid }))).State === wanted
        ? true
        : undefined;
    const batch = (from: number, n: number) =>
      Array.from({ length: n }, (_, k) => ({ key: 'toggle', body: { id: `t-${from + k}`, i: from + k } }));
    const deliveries = () =>
      count('SELECT count(*) AS n FROM esm_deliveries WHERE function_name = $1', [fnName('toggle')]);

    await put('esm-toggle', batch(0, 5));
    await eventually(async () => ((await applied('toggle')) === 5 ? true : undefined), '5 applied, enabled');
    const off = await edge.send(
      new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: false, BatchSize: 3 }),
    );
    expect(off).toMatchObject({ UUID: uuid, State: 'Disabling', BatchSize: 3 });
    await eventually(stateIs('Disabled'), 'Disabled (its consumer stopped, its batch checkpointed)');

    await put('esm-toggle', batch(5, 10));
    // The witness's mapping reads the same shard all along: once it has applied the 10, they were there to deliver.
    await eventually(
      async () => ((await applied('witness')) === 15 ? true : undefined),
      'the witness has all 15',
    );
    expect(await applied('toggle')).toBe(5);
    expect(await deliveries()).toBe(5);
    expect((await mappingOf('toggle')).enabled).toBe(false);

    const on = await direct.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: true }));
    expect(on.State).toBe('Enabling');
    await eventually(stateIs('Enabled'), 'Enabled again');
    await eventually(async () => ((await applied('toggle')) === 15 ? true : undefined), '15 applied');
    expect(await deliveries()).toBe(15); // resumed after its checkpoint: nothing delivered twice, nothing skipped
    const order = await db.query<{ record_index: number }>(
      'SELECT record_index FROM esm_applied WHERE function_name = $1 ORDER BY id',
      [fnName('toggle')],
    );
    expect(order.rows.map((r) => r.record_index)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    const batches = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM esm_deliveries WHERE function_name = $1 AND record_index >= 5
       GROUP BY invocation_started_at`,
      [fnName('toggle')],
    );
    expect(batches.rows.map((r) => Number(r.n)).reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...batches.rows.map((r) => Number(r.n)))).toBeLessThanOrEqual(3);

    const missing = await edge
      .send(new GetEventSourceMappingCommand({ UUID: 'no-such-uuid' }))
      .catch((e) => e);
    expect((missing as Error).name).toBe('ResourceNotFoundException');
    const refused = await edge
      .send(new UpdateEventSourceMappingCommand({ UUID: uuid, MaximumBatchingWindowInSeconds: 301 }))
      .catch((e) => e);
    expect((refused as Error).name).toBe('InvalidParameterValueException');
    for (const c of [edge, direct]) c.destroy();
  });

  it('keeps per-key order with parallelizationFactor 4 on one shard, with batches overlapping in time', async () => {
    const records = [];
    for (let i = 0; i < 10; i++)
      for (let k = 0; k < 50; k++) records.push({ key: `key-${k}`, body: { id: `par-${k}-${i}`, i } });
    await put('esm-parallel', records);
    await eventually(async () => ((await applied('parallel')) === 500 ? true : undefined), '500 applied');
    const rows = await db.query<{ partition_key: string; record_index: number }>(
      'SELECT partition_key, record_index FROM esm_applied WHERE function_name = $1 ORDER BY id',
      [fnName('parallel')],
    );
    const byKey = new Map<string, number[]>();
    for (const r of rows.rows)
      byKey.set(r.partition_key, [...(byKey.get(r.partition_key) ?? []), r.record_index]);
    expect(byKey.size).toBe(50);
    for (const order of byKey.values()) expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(
      await count('SELECT count(*) AS n FROM esm_deliveries WHERE function_name = $1', [fnName('parallel')]),
    ).toBe(500);
    const overlapping = await count(
      `SELECT count(*) AS n FROM esm_invocations a JOIN esm_invocations b ON a.ctid < b.ctid
       WHERE a.function_name = $1 AND b.function_name = $1 AND a.started_at < b.ended_at AND b.started_at < a.ended_at`,
      [fnName('parallel')],
    );
    expect(overlapping).toBeGreaterThan(0);
    expect((await mappingOf('parallel')).shards[0]?.lanes).toBe(4);
  });

  it('resumes after a stop of the whole stack mid-stream: 10,000 records applied exactly once, none missing', async () => {
    const records = Array.from({ length: 10_000 }, (_, n) => ({
      key: `r-${n % 97}`,
      body: { id: `r-${n}`, i: n },
    }));
    await put('esm-restart', records);
    await eventually(
      async () => ((await applied('restart')) >= 1500 ? true : undefined),
      '1,500 applied before the stop',
    );
    // The poller stops first (as stack:down stops it): it finishes its in-flight batches and checkpoints them.
    // Counted then, with nothing applying any more and before the restart, the stop is known to be mid-stream.
    await stackDown(stack.config, () => undefined, ['esm-poller']);
    const appliedAtStop = await applied('restart');
    expect(appliedAtStop).toBeGreaterThan(0);
    expect(appliedAtStop).toBeLessThan(10_000);
    await db.end();
    await stackDown(stack.config, () => undefined);
    await stackUp(stack.config, () => undefined);
    db = new pg.Pool({ connectionString: stack.state.databaseUrl, max: 2 });
    await eventually(
      async () => ((await applied('restart')) === 10_000 ? true : undefined),
      '10,000 applied after the restart',
      90_000,
    );
    const missing = await count(
      `SELECT count(*) AS n FROM generate_series(0, 9999) AS i WHERE NOT EXISTS (SELECT 1 FROM esm_applied WHERE function_name = $1 AND record_index = i)`,
      [fnName('restart')],
    );
    expect(missing).toBe(0);
    const redelivered = await count(
      'SELECT count(*) AS n FROM (SELECT record_id FROM esm_deliveries WHERE function_name = $1 GROUP BY record_id HAVING count(*) > 1) d',
      [fnName('restart')],
    );
    expect(redelivered).toBe(0); // every completed batch was checkpointed before the stop
    const status = await mappingOf('restart');
    expect(status.shards).toHaveLength(2);
    for (const shard of status.shards) expect(shard.lastCheckpoint).toMatch(/^\d+$/);
  });

  it('sends records older than maximumRecordAgeInSeconds to the failure destination, not the handler', async () => {
    // The mapping's maximumRecordAgeInSeconds is 60, the smallest AWS allows. Rather than wait a minute, the poller
    // is restarted with its clock 61 s ahead: the records put while it was down are 61 s old when it reads them.
    const ahead: StackConfig = {
      ...stack.config,
      env: { ...stack.config.env, LOCAL_ESM_CLOCK_OFFSET_SECONDS: 61 },
    };
    await stackDown(stack.config, () => undefined, ['esm-poller']);
    await put(
      'esm-aged',
      [0, 1, 2, 3, 4].map((i) => ({ key: 'aged', body: { id: `aged-${i}`, i } })),
    );
    await stackUp(ahead, () => undefined);
    try {
      const mapping = await mappingOf('aged');
      const [failure] = await eventually(async () => {
        const objects = await failureObjects(mapping.uuid);
        return objects.length > 0 ? objects : undefined;
      }, 'a RecordAgeExceeded failure record');
      expect(failure).toMatchObject({
        requestContext: { condition: 'RecordAgeExceeded', approximateInvokeCount: 0 },
        KinesisBatchInfo: { batchSize: 5 },
      });
      const shard = await eventually(async () => {
        const [status] = (await mappingOf('aged')).shards;
        return status?.failureRecords === 1 && status.inFlight.length === 0 ? status : undefined;
      }, 'the failure counted in the status');
      expect(shard).toMatchObject({ failureRecords: 1, recordsSentToFailure: 5, invocations: 0 });
      expect(
        await count('SELECT count(*) AS n FROM esm_deliveries WHERE function_name = $1', [fnName('aged')]),
      ).toBe(0);
    } finally {
      // Back on the machine's time for what follows.
      await stackDown(stack.config, () => undefined, ['esm-poller']);
      await stackUp(stack.config, () => undefined);
    }
  });

  it('shows per mapping and shard its iterator age, checkpoint, in-flight batch, retries and failures', async () => {
    const json = await runScript('local/cli.ts', ['status', '--json', '--esm'], stack.env);
    expect(json.code).toBe(0);
    const mappings = JSON.parse(json.stdout).esm.mappings as MappingStatus[];
    expect(mappings.map((m) => m.functionName).sort()).toEqual(
      [
        'aged',
        'bisect',
        'latency1',
        'latency4',
        'parallel',
        'partial',
        'restart',
        'shape',
        'throughput',
        'toggle',
        'witness',
      ].map(fnName),
    );
    const bisect = mappings.find((m) => m.functionName === fnName('bisect'));
    expect(bisect?.settings).toMatchObject({
      batchSize: 100,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 2,
    });
    // counters are the poller's since its last start (the age test restarted it); checkpoints are durable
    const aged = mappings.find((m) => m.functionName === fnName('aged'));
    expect(aged?.settings).toMatchObject({ maximumRecordAgeSeconds: 60 });
    expect(aged?.shards[0]).toMatchObject({ failureRecords: 0, inFlight: [] });
    expect(aged?.shards[0]?.lastCheckpoint).toMatch(/^\d+$/);
    expect(bisect?.shards[0]?.lastCheckpoint).toMatch(/^\d+$/);
    expect(typeof bisect?.shards[0]?.iteratorAgeMs).toBe('number');
    const text = await runScript('local/cli.ts', ['status', '--esm'], stack.env);
    expect(text.stdout).toMatch(/mapping\s+shard\s+lanes\s+iterator age ms\s+checkpoint\s+in flight/);
    expect(text.stdout).toContain(`${fnName('parallel')} <- esm-parallel`);
  });
});
