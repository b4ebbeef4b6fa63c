import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import { CanonicalEnvelope } from '../../../lib/contracts/envelope.ts';
import { IngestionReceipt } from '../../../lib/contracts/receipts.ts';
import { generateWorld } from '../../../tools/world/generate.ts';
import { type AwsCli, awsCli, cmd, s3Listing } from '../../support/aws-cli.ts';
import { clientsFor } from '../../support/clients.ts';
import { eventually } from '../../support/eventually.ts';
import { waitForExecution } from '../../support/executions.ts';

/**
 * The seeds' walkthrough, steps 9–10 (verify the artifacts and the bus records), done with the real AWS CLI through the
 * edge endpoint with `test`/`test`, after one Gate-20 run; plus Step Functions and Lambda (docs/local-cloud.md, "Use it
 * with the AWS CLI", lists the same commands). Every command's output is asserted.
 */

const { state } = inject('stack');
const { s3, sfn } = clientsFor(state);
const BUCKET = 'fraud-platform';
const lifecycleArn = state.stateMachines.find((m) => m.name.endsWith('-run-lifecycle'))?.arn ?? 'missing';
const READY_CONSUMER = 'fraud-platform-local-world-streamer-ready-consumer';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'aws-cli-walkthrough-'));
let aws: AwsCli;
let run: string;
let executionArn: string;

/** The keys under a prefix, from the SDK without a delimiter: what `aws s3 ls` must agree with. */
async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

/** `PRE x/` and object names one level under `prefix`, derived from the full listing. */
async function levelUnder(prefix: string): Promise<{ prefixes: string[]; objects: string[] }> {
  const rest = (await keysUnder(prefix)).map((k) => k.slice(prefix.length));
  return {
    prefixes: [...new Set(rest.filter((r) => r.includes('/')).map((r) => `${r.split('/')[0]}/`))].sort(),
    objects: rest.filter((r) => !r.includes('/')).sort(),
  };
}

beforeAll(async () => {
  // First: a missing CLI fails the tier here, before the run, naming what to install.
  aws = await awsCli({ endpoint: state.endpoints.edge, region: state.region });
  console.log(`AWS CLI tier: ${aws.version}`);
  const world = path.join(work, 'world');
  await generateWorld({ out: world, events: 2_000, seed: 16n });
  const start = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: lifecycleArn,
      input: JSON.stringify({
        world_source: `file://${world}`,
        scenario_id: 'baseline_v1',
        stream: { max_events_per_output: 20 },
      }),
    }),
  );
  executionArn = start.executionArn ?? '';
  const done = await waitForExecution(sfn, executionArn);
  if (done.status !== 'SUCCEEDED')
    throw new Error(`the Gate-20 run ended ${done.status}: ${done.error} ${done.cause}`);
  run = z.object({ platform_run_id: z.string() }).parse(JSON.parse(done.output ?? '{}')).platform_run_id;
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('the seeds’ walkthrough with the AWS CLI, through the edge', () => {
  it('step 9: the active run id, then aws s3 ls lists the run’s folders, its SR artifacts and its IG receipts', async () => {
    // "Find the run id": the pointer the run's pin wrote.
    expect((await aws.text(cmd`s3 cp s3://${BUCKET}/ACTIVE_RUN_ID -`)).trim()).toBe(run);
    const root = s3Listing(await aws.text(cmd`s3 ls s3://${BUCKET}/${run}/`));
    expect(root.prefixes).toEqual(expect.arrayContaining(['ig/', 'lifecycle/', 'obs/', 'sr/']));
    const truth = await levelUnder(`${run}/`);
    expect(root.prefixes.sort()).toEqual(truth.prefixes);
    expect(root.objects.map((o) => o.key).sort()).toEqual(truth.objects);
    expect(truth.objects).toContain('run_pin.json');

    const sr = s3Listing(await aws.text(cmd`s3 ls s3://${BUCKET}/${run}/sr/`));
    expect(sr.prefixes).toEqual(
      expect.arrayContaining([
        'instance_receipts/',
        'ready_signal/',
        'run_facts_view/',
        'run_plan/',
        'run_status/',
      ]),
    );
    expect(sr.prefixes.sort()).toEqual((await levelUnder(`${run}/sr/`)).prefixes);

    const receipts = s3Listing(await aws.text(cmd`s3 ls --recursive s3://${BUCKET}/${run}/ig/receipts/`));
    expect(receipts.prefixes).toEqual([]);
    expect(receipts.objects.length).toBeGreaterThan(0);
    for (const o of receipts.objects) {
      expect(o.key).toMatch(
        new RegExp(`^${run}/ig/receipts/(segments/[0-9a-f]{64}\\.jsonl|[0-9a-f]{32}\\.json)$`),
      );
      expect(o.size).toBeGreaterThan(0);
    }
    expect(receipts.objects.map((o) => o.key).sort()).toEqual(
      (await keysUnder(`${run}/ig/receipts/`)).sort(),
    );
  });

  it('step 9: aws s3 cp fetches receipts; s3api get-object --range reads one by its #bytes ref; step 10: its eb_ref on the bus', async () => {
    const listed = s3Listing(await aws.text(cmd`s3 ls --recursive s3://${BUCKET}/${run}/ig/receipts/`));
    const segment = listed.objects.find((o) => o.key.includes('/segments/'))?.key ?? 'no segment';
    const body = await aws.text(cmd`s3 cp s3://${BUCKET}/${segment} -`);
    const lines = body.split('\n').filter((l) => l !== '');
    const all = lines.map((l) => IngestionReceipt.parse(parseJsonLossless(l)));
    for (const r of all)
      expect(r).toMatchObject({
        decision: 'ADMIT',
        platform_run_id: run,
        eb_ref: { offset_kind: 'kinesis_sequence' },
      });

    // The gate's lookup names a receipt's ref: its segment and the byte range of its line (the second, if any).
    const n = Math.min(1, lines.length - 1);
    const receipt = all[n] as IngestionReceipt;
    const start = Buffer.byteLength(
      lines
        .slice(0, n)
        .map((l) => `${l}\n`)
        .join(''),
    );
    const end = start + Buffer.byteLength(lines[n] as string) - 1;
    const lookup = await fetch(`${state.endpoints.http}/v1/ops/lookup?receipt_id=${receipt.receipt_id}`, {
      headers: { 'x-ig-api-key': 'local-parity-wsp' },
    });
    const found = z
      .object({ receipt_ref: z.string(), platform_run_id: z.string() })
      .parse(await lookup.json());
    expect(found).toEqual({
      receipt_ref: `s3://${BUCKET}/${segment}#bytes=${start}-${end}`,
      platform_run_id: run,
    });
    const file = path.join(work, 'receipt.json');
    const got = await aws.json(
      z.looseObject({ ContentRange: z.string(), ContentLength: z.number() }),
      cmd`s3api get-object --bucket ${BUCKET} --key ${segment} --range bytes=${start}-${end} ${file}`,
    );
    const total = Buffer.byteLength(body);
    expect(got).toMatchObject({
      ContentRange: `bytes ${start}-${end}/${total}`,
      ContentLength: end - start + 1,
    });
    expect(IngestionReceipt.parse(parseJsonLossless(fs.readFileSync(file, 'utf8')))).toEqual(receipt);

    // Step 10: the record at the receipt's eb_ref is the canonical envelope of that event.
    const ref = receipt.eb_ref as NonNullable<IngestionReceipt['eb_ref']>;
    const streams = await aws.json(z.object({ StreamNames: z.array(z.string()) }), cmd`kinesis list-streams`);
    expect(streams.StreamNames).toContain(ref.topic);
    const shard = `shardId-${String(ref.partition).padStart(12, '0')}`;
    const iterator = (
      await aws.text(
        cmd`kinesis get-shard-iterator --stream-name ${ref.topic} --shard-id ${shard}
            --shard-iterator-type AT_SEQUENCE_NUMBER --starting-sequence-number ${ref.offset}
            --query ShardIterator --output text`,
      )
    ).trim();
    expect(iterator).not.toBe('');
    const Records = z.object({
      Records: z.array(
        z.looseObject({ SequenceNumber: z.string(), PartitionKey: z.string(), Data: z.string() }),
      ),
    });
    const records = await aws.json(Records, cmd`kinesis get-records --shard-iterator ${iterator} --limit 1`);
    expect(records.Records).toHaveLength(1);
    expect(records.Records[0]?.SequenceNumber).toBe(ref.offset);
    const data = await aws.text(
      cmd`kinesis get-records --shard-iterator ${iterator} --limit 1 --query ${'Records[0].Data'} --output text`,
    );
    expect(data.trim()).toBe(records.Records[0]?.Data);
    const envelope = CanonicalEnvelope.parse(
      parseJsonLossless(Buffer.from(data.trim(), 'base64').toString('utf8')),
    );
    expect(envelope).toMatchObject({
      event_id: receipt.event_id,
      event_type: receipt.event_type,
      platform_run_id: run,
    });

    // "Read a few records": the stream from TRIM_HORIZON holds canonical envelopes.
    const first = (
      await aws.text(
        cmd`kinesis get-shard-iterator --stream-name ${ref.topic} --shard-id ${shard}
            --shard-iterator-type TRIM_HORIZON --query ShardIterator --output text`,
      )
    ).trim();
    const few = await aws.json(Records, cmd`kinesis get-records --shard-iterator ${first} --limit 5`);
    expect(few.Records.length).toBeGreaterThan(0);
    expect(few.Records.length).toBeLessThanOrEqual(5);
    for (const r of few.Records)
      CanonicalEnvelope.parse(parseJsonLossless(Buffer.from(r.Data, 'base64').toString('utf8')));
  });

  it('aws stepfunctions list-executions, describe-execution and get-execution-history show the run', async () => {
    const listed = await aws.json(
      z.object({ executions: z.array(z.looseObject({ executionArn: z.string(), status: z.string() })) }),
      cmd`stepfunctions list-executions --state-machine-arn ${lifecycleArn}`,
    );
    expect(listed.executions).toContainEqual(expect.objectContaining({ executionArn, status: 'SUCCEEDED' }));
    const newest = await aws.text(
      cmd`stepfunctions list-executions --state-machine-arn ${lifecycleArn}
          --query ${'executions[0].executionArn'} --output text`,
    );
    expect(newest.trim()).toBe(executionArn);
    const described = await aws.json(
      z.looseObject({
        executionArn: z.string(),
        stateMachineArn: z.string(),
        status: z.string(),
        output: z.string(),
      }),
      cmd`stepfunctions describe-execution --execution-arn ${executionArn}`,
    );
    expect(described).toMatchObject({ executionArn, stateMachineArn: lifecycleArn, status: 'SUCCEEDED' });
    expect(JSON.parse(described.output)).toMatchObject({
      platform_run_id: run,
      phases_completed: ['P0', 'P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8', 'P9', 'P10', 'P11', 'P12'],
    });
    const Event = z.looseObject({
      id: z.number(),
      type: z.string(),
      stateEnteredEventDetails: z.looseObject({ name: z.string() }).optional(),
    });
    const history = await aws.json(
      z.object({ events: z.array(Event) }),
      cmd`stepfunctions get-execution-history --execution-arn ${executionArn}`,
    );
    expect(history.events[0]?.type).toBe('ExecutionStarted');
    expect(history.events.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(history.events.map((e) => e.id)).toEqual(history.events.map((_, i) => i + 1));
    const entered = history.events.flatMap((e) => e.stateEnteredEventDetails?.name ?? []);
    expect(entered).toEqual(
      expect.arrayContaining([
        'P0SubstrateReady',
        'P1RunPinned',
        'P2DaemonsReady',
        'P3OracleReady',
        'P4IngestReady',
        'P5ReadyPublished',
        'P6StreamingActive',
        'P7IngestCommitted',
      ]),
    );
    expect(history.events.filter((e) => e.type === 'LambdaFunctionSucceeded').length).toBeGreaterThanOrEqual(
      7,
    );
  });
});

const Mapping = z.looseObject({
  UUID: z.string(),
  FunctionArn: z.string(),
  EventSourceArn: z.string(),
  State: z.string(),
  BatchSize: z.number(),
});
const Mappings = z.object({ EventSourceMappings: z.array(Mapping) });

describe('Lambda with the AWS CLI, through the edge', () => {
  it('lists, gets, disables and enables again the READY consumer’s event-source mapping', async () => {
    const listed = await aws.json(
      Mappings,
      cmd`lambda list-event-source-mappings --function-name ${READY_CONSUMER}`,
    );
    expect(listed.EventSourceMappings).toHaveLength(1);
    const mapping = listed.EventSourceMappings[0] as z.infer<typeof Mapping>;
    expect(mapping).toMatchObject({
      FunctionArn: `arn:aws:lambda:${state.region}:${state.accountId}:function:${READY_CONSUMER}`,
      EventSourceArn: `arn:aws:kinesis:${state.region}:${state.accountId}:stream/sr-control-bus`,
      State: 'Enabled',
    });
    const uuid = await aws.text(
      cmd`lambda list-event-source-mappings --function-name ${READY_CONSUMER}
          --query ${'EventSourceMappings[0].UUID'} --output text`,
    );
    expect(uuid.trim()).toBe(mapping.UUID);
    const get = () => aws.json(Mapping, cmd`lambda get-event-source-mapping --uuid ${mapping.UUID}`);
    expect(await get()).toEqual(mapping);
    const stateIs = (wanted: string) => async () => ((await get()).State === wanted ? true : undefined);
    try {
      const off = await aws.json(
        Mapping,
        cmd`lambda update-event-source-mapping --uuid ${mapping.UUID} --no-enabled`,
      );
      expect(off).toMatchObject({ UUID: mapping.UUID, State: 'Disabling' });
      await eventually(stateIs('Disabled'), 'the mapping Disabled');
      const listedOff = await aws.json(
        Mappings,
        cmd`lambda list-event-source-mappings --function-name ${READY_CONSUMER}`,
      );
      expect(listedOff.EventSourceMappings[0]?.State).toBe('Disabled');
    } finally {
      // Restored whatever happened above: the shared stack's next run needs the READY consumer (P2).
      const on = await aws.json(
        Mapping,
        cmd`lambda update-event-source-mapping --uuid ${mapping.UUID} --enabled`,
      );
      expect(['Enabling', 'Updating']).toContain(on.State);
      await eventually(stateIs('Enabled'), 'the mapping Enabled again');
    }

    const unknown = await aws.run(cmd`lambda get-event-source-mapping --uuid no-such-mapping`);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('ResourceNotFoundException');
    const tooBig = await aws.run(
      cmd`lambda update-event-source-mapping --uuid ${mapping.UUID} --batch-size 10001`,
    );
    expect(tooBig.code).not.toBe(0);
    expect(tooBig.stderr).toContain('InvalidParameterValueException');
    expect((await get()).BatchSize).toBe(mapping.BatchSize);
  });

  it('aws lambda invoke runs substrate-status and writes its answer to the output file', async () => {
    const payload = path.join(work, 'payload.json');
    fs.writeFileSync(payload, '{"probe":"aws-cli walkthrough"}');
    const out = path.join(work, 'out.json');
    const answer = await aws.json(
      z.looseObject({ StatusCode: z.number() }),
      cmd`lambda invoke --function-name fraud-platform-local-substrate-status --payload fileb://${payload} ${out}`,
    );
    expect(answer.StatusCode).toBe(200);
    expect(answer).not.toHaveProperty('FunctionError');
    const report = z
      .looseObject({ phase: z.string(), ready: z.boolean(), summary: z.string() })
      .parse(JSON.parse(fs.readFileSync(out, 'utf8')));
    expect(report).toMatchObject({ phase: 'P0', ready: true });
  });
});
