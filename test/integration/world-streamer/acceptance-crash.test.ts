import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { platformRunIdAt, type RunStreamSettings } from '../../../lib/contracts/platform-run.ts';
import { stackDown, stackUp } from '../../../local/stack.ts';
import { stackConfig } from '../../../local/stack-config.ts';
import { runEnvelopes } from '../../support/bus.ts';
import { clientsFor } from '../../support/clients.ts';
import { eventually } from '../../support/eventually.ts';
import { STREAMED_ONLY } from '../../support/streamed-receipts.ts';
import {
  ACCEPTANCE_WORLD,
  BUS_STREAMS,
  type OracleWorld,
  openViews,
  oracleWorld,
  PLATFORM_BUCKET,
  pinRun,
  publishReady,
  putControl,
  readyFor,
  streamExecutionArn,
  viewEventIds,
  WSP_OUTPUTS,
} from '../../support/world-streamer.ts';

/**
 * A crash mid-chunk (the case): a paced stream-run loses the Lambda part of the local cloud (every function:
 * the chunk loops, the finish step and IG) while it streams. The state machine retries, gives up, and cannot record
 * the outcome. Once the part is back, the READY is put on sr-control-bus again: the consumer finds the attempt's
 * execution ended without a result, records it FAILED and starts attempt 2, which resumes from the checkpoints and
 * re-sends what was not checkpointed (IG answers DUPLICATE). Every event of the cap reaches the bus exactly once.
 */

const { state, env } = inject('stack');
const { s3, sfn, kinesis } = clientsFor(state);
const config = stackConfig(env);
const CAP = 12;
/** Event-time pacing: the first events of this world are 1–6 s apart at this speedup, so a stream takes ~40 s. */
const SPEEDUP = 1000;
/** A day of event time: the world's whole horizon in one window. */
const ALIGN_WINDOW_SECONDS = 86_400;
const stamp = Date.now() - 192 * 3_600_000 - Math.floor(Math.random() * 1000) * 1000;
const PRID = platformRunIdAt(new Date(stamp));
const SRID = sha256Hex(`wsp-crash|${stamp}`).slice(0, 32);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsp-crash-'));
const pool = new pg.Pool({ connectionString: state.databaseUrl, max: 2 });
let oracle: OracleWorld;
let expected: Record<string, string[]>;

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  return (await pool.query<T>(sql, params)).rows;
}

const describeExecution = (name: string) =>
  sfn.send(new DescribeExecutionCommand({ executionArn: streamExecutionArn(state, name) }));

const finished = (name: string, timeoutMs: number) =>
  eventually(
    async () => {
      const d = await describeExecution(name).catch(() => undefined);
      return d === undefined || d.status === 'RUNNING' ? undefined : d;
    },
    `stream-run execution ${name} to end`,
    timeoutMs,
  );

const receipts = () =>
  query<{ event_id: string; decision: string }>(
    `SELECT event_id, decision FROM ig_receipts WHERE platform_run_id = $1 AND ${STREAMED_ONLY}`,
    [PRID],
  );

beforeAll(async () => {
  oracle = await oracleWorld(sfn, state, path.join(dir, 'world'), ACCEPTANCE_WORLD);
  const views = await openViews(s3, dir);
  try {
    expected = await viewEventIds(views, oracle, 0, CAP);
  } finally {
    views.close();
  }
}, 300_000);

afterAll(async () => {
  // Whatever happened above, leave the shared local cloud whole for the next file.
  await stackUp(config, () => undefined);
  await pool.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('re-running a stream after a crash mid-chunk', () => {
  it('leaves each event of the cap on the bus exactly once, each with one ADMIT receipt', async () => {
    // One alignment window over the whole capped stream (a run's own setting): the crash then falls inside each
    // output's first chunk, before any checkpoint, as the cap is counted per session (alignment itself is shown with
    // a crash in the unit tier, test/unit/world-streamer/alignment.test.ts).
    await pinRun(pool, PRID, {
      max_events_per_output: CAP,
      speedup: SPEEDUP,
      align_window_seconds: ALIGN_WINDOW_SECONDS,
    } as RunStreamSettings);
    const fixture = readyFor({
      platformRunId: PRID,
      scenarioRunId: SRID,
      oracle,
      bundleHash: sha256Hex(`wsp-crash|bundle|${stamp}`),
    });
    const messageId = fixture.ready.message_id;
    const control = await publishReady(s3, kinesis, fixture);

    // Mid-stream: a few events admitted, the execution still running, no output at its cap.
    await eventually(
      async () => ((await receipts()).length >= 3 ? true : undefined),
      'the stream to get going',
      90_000,
    );
    expect((await describeExecution(messageId)).status).toBe('RUNNING');
    await stackDown(config, () => undefined, ['lambda']);
    const atCrash = (await receipts()).length;
    expect(atCrash).toBeLessThan(CAP * WSP_OUTPUTS.length);

    // The chunk tasks retry Lambda.ServiceException (1+2+4+8+16 s), then the finish step cannot run either.
    const lost = await finished(messageId, 120_000);
    expect(lost.status).toBe('FAILED');
    expect(
      await query('SELECT status, attempt FROM wsp_ready_runs WHERE message_id = $1', [messageId]),
    ).toEqual([{ status: 'IN_PROGRESS', attempt: 1 }]);
    expect(await query('SELECT line_id FROM wsp_ready_record WHERE message_id = $1', [messageId])).toEqual(
      [],
    );
    // Nothing checkpointed yet: the crash was inside each output's first chunk.
    const scopeRows = await query<{ output_id: string }>(
      'SELECT output_id FROM wsp_checkpoint WHERE session_id = $1',
      [messageId],
    );
    expect(scopeRows).toEqual([]);

    await stackUp(config, () => undefined);
    await putControl(kinesis, control, fixture.ready.run_id);
    const second = await finished(`${messageId}-2`, 240_000);
    expect(second.error ?? second.status).toBe('SUCCEEDED');
    expect(JSON.parse(second.output ?? '{}').result).toEqual({
      status: 'STREAMED',
      emitted: CAP * WSP_OUTPUTS.length,
      reason: null,
    });

    // The bus: exactly the first CAP rows of each output, each once (sorted: an output's records span two shards).
    const onBus: Record<string, string[]> = Object.fromEntries(WSP_OUTPUTS.map((id) => [id, []]));
    for (const { envelope } of await runEnvelopes(kinesis, BUS_STREAMS, PRID))
      onBus[envelope.event_type]?.push(envelope.event_id);
    for (const id of WSP_OUTPUTS) {
      expect(expected[id]).toHaveLength(CAP);
      expect([...(onBus[id] ?? [])].sort()).toEqual([...(expected[id] ?? [])].sort());
    }

    // One ADMIT per event; what was pushed before the crash was pushed again and answered DUPLICATE.
    const all = await receipts();
    const admits = all.filter((r) => r.decision === 'ADMIT').map((r) => r.event_id);
    expect(admits.sort()).toEqual(WSP_OUTPUTS.flatMap((id) => expected[id] ?? []).sort());
    const duplicates = all.filter((r) => r.decision === 'DUPLICATE').map((r) => r.event_id);
    expect(duplicates.length).toBeGreaterThanOrEqual(1);
    expect(duplicates.every((id) => admits.includes(id))).toBe(true);
    expect(all.filter((r) => r.decision === 'QUARANTINE')).toEqual([]);

    // The evidence: attempt 1 FAILED (lost), attempt 2 STREAMED; both sessions began and ended in governance.
    expect(
      await query('SELECT status, attempt FROM wsp_ready_runs WHERE message_id = $1', [messageId]),
    ).toEqual([{ status: 'STREAMED', attempt: 2 }]);
    expect(
      await query(
        'SELECT status, reason, emitted FROM wsp_ready_record WHERE message_id = $1 ORDER BY line_id',
        [messageId],
      ),
    ).toEqual([
      { status: 'FAILED', reason: 'STREAM_FAILED', emitted: null },
      { status: 'STREAMED', reason: null, emitted: String(CAP * WSP_OUTPUTS.length) },
    ]);
    const names = (
      await sfn.send(
        new ListExecutionsCommand({
          stateMachineArn: state.stateMachines.find((m) => m.name.endsWith('-stream-run'))?.arn,
          maxResults: 1000,
        }),
      )
    ).executions
      ?.map((e) => e.name ?? '')
      .filter((n) => n.startsWith(messageId))
      .sort();
    expect(names).toEqual([messageId, `${messageId}-2`]);
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: PLATFORM_BUCKET, Prefix: `${PRID}/obs/governance/events/` }),
    );
    const ended: Array<{ session_id: string; status: string }> = [];
    for (const o of listed.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: PLATFORM_BUCKET, Key: o.Key }));
      const event = JSON.parse((await got.Body?.transformToString()) ?? '{}') as {
        event_family: string;
        details: { session_id: string; status: string };
      };
      if (event.event_family === 'RUN_ENDED') ended.push(event.details);
    }
    expect(ended.map((d) => [d.session_id, d.status]).sort()).toEqual([
      [messageId, 'FAILED'],
      [`${messageId}-2`, 'STREAMED'],
    ]);
  }, 720_000);
});
