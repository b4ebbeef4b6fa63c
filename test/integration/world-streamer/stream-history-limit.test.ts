import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DescribeExecutionCommand,
  type DescribeExecutionOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
} from '@aws-sdk/client-sfn';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { platformRunIdAt } from '../../../lib/contracts/platform-run.ts';
import { outputChunksPerSegment, segmentExecutionName } from '../../../lib/world-streamer/segments.ts';
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
  pinRun,
  publishReady,
  readyFor,
  streamExecutionArn,
  viewEventIds,
  WSP_OUTPUTS,
} from '../../support/world-streamer.ts';

/**
 * A stream longer than one Step Functions execution may record. The local cloud's history limit is lowered to 600
 * events (LOCAL_SFN_MAX_HISTORY_EVENTS; AWS's is 25,000) and the World Streamer reads 2 rows a chunk
 * (WSP_CHUNK_ROWS) in segments of 28 chunks (WSP_CHUNKS_PER_SEGMENT: 7 for each of the 4 outputs), the outputs
 * aligned on 60 s windows of event time (the default): 4 outputs capped at 48 events are over a hundred chunks in
 * many rounds, far more than 600 events for one execution looping over them. stream-run runs the session as a series
 * of stream-output executions instead, and every event of the cap is admitted once.
 */

const { state, env } = inject('stack');
const { s3, sfn, kinesis } = clientsFor(state);
const config = stackConfig(env);
const MAX_HISTORY_EVENTS = 600;
const CHUNK_ROWS = 2;
const CHUNKS_PER_SEGMENT = 28;
const CAP = 48;
const WORLD_STREAMER_OVERRIDES = {
  WSP_CHUNK_ROWS: String(CHUNK_ROWS),
  WSP_CHUNKS_PER_SEGMENT: String(CHUNKS_PER_SEGMENT),
};
const stamp = Date.now() - 216 * 3_600_000 - Math.floor(Math.random() * 1000) * 1000;
const PRID = platformRunIdAt(new Date(stamp));
const SRID = sha256Hex(`wsp-history|${stamp}`).slice(0, 32);
const outputMachine = state.stateMachines.find((m) => m.name.endsWith('-stream-output'));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsp-history-'));
const pool = new pg.Pool({ connectionString: state.databaseUrl, max: 2 });
const before: Record<string, string | undefined> = {};
let oracle: OracleWorld;
let expected: Record<string, string[]>;
let messageId: string;
let execution: DescribeExecutionOutput;

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  return (await pool.query<T>(sql, params)).rows;
}

async function historyOf(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** Restarts the Lambda and Step Functions parts of the shared local cloud, which read these settings at start. */
async function restartCompute(limit: number | undefined): Promise<void> {
  await stackDown(config, () => undefined, ['step-functions', 'lambda']);
  const settings = limit === undefined ? env : { ...env, LOCAL_SFN_MAX_HISTORY_EVENTS: String(limit) };
  await stackUp(stackConfig(settings), () => undefined);
}

beforeAll(async () => {
  oracle = await oracleWorld(sfn, state, path.join(dir, 'world'), ACCEPTANCE_WORLD);
  const views = await openViews(s3, dir);
  try {
    expected = await viewEventIds(views, oracle, 0, CAP);
  } finally {
    views.close();
  }
  for (const [key, value] of Object.entries(WORLD_STREAMER_OVERRIDES)) {
    before[key] = process.env[key];
    process.env[key] = value; // the Lambda part (sls offline) resolves ${env:WSP_*} from its environment
  }
  await restartCompute(MAX_HISTORY_EVENTS);

  await pinRun(pool, PRID, { max_events_per_output: CAP, speedup: 0 });
  const fixture = readyFor({
    platformRunId: PRID,
    scenarioRunId: SRID,
    oracle,
    bundleHash: sha256Hex(`wsp-history|bundle|${stamp}`),
  });
  messageId = fixture.ready.message_id;
  await publishReady(s3, kinesis, fixture);
  execution = await eventually(
    async () => {
      const d = await sfn
        .send(new DescribeExecutionCommand({ executionArn: streamExecutionArn(state, messageId) }))
        .catch(() => undefined);
      return d === undefined || d.status === 'RUNNING' ? undefined : d;
    },
    'the stream-run execution of the READY to end',
    300_000,
  );
}, 720_000);

afterAll(async () => {
  // Leave the shared local cloud as the suite started it: AWS's limit, the deployment's chunk settings.
  for (const [key, value] of Object.entries(before)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await restartCompute(undefined);
  await pool.end();
  fs.rmSync(dir, { recursive: true, force: true });
}, 300_000);

describe('a stream longer than one execution history may be, under a 600-event limit', () => {
  it('ends SUCCEEDED with every output at its cap, its own history below the limit', async () => {
    expect(execution.error ?? execution.status, execution.cause).toBe('SUCCEEDED');
    const output = JSON.parse(execution.output ?? '{}') as {
      result: unknown;
      outputs: Array<{ output_id: string; status: string; reason: string | null; emitted: number }>;
    };
    expect(output.result).toEqual({ status: 'STREAMED', emitted: CAP * WSP_OUTPUTS.length, reason: null });
    expect(output.outputs.map((o) => o.output_id).sort()).toEqual([...WSP_OUTPUTS].sort());
    for (const o of output.outputs)
      expect(o).toMatchObject({ status: 'DONE', reason: 'max_events', emitted: CAP });
    expect((await historyOf(execution.executionArn ?? '')).length).toBeLessThan(MAX_HISTORY_EVENTS);
  });

  it('ran the session as consecutive segments, each output at most its share of each, which together outgrow one history', async () => {
    const listed = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: outputMachine?.arn ?? 'missing', maxResults: 1000 }),
    );
    const segments = (listed.executions ?? []).filter((e) => e.name?.startsWith(`${messageId}-`));
    expect(segments.every((e) => e.status === 'SUCCEEDED')).toBe(true);
    expect(segments.length).toBeGreaterThanOrEqual(2);
    expect(segments.map((e) => e.name ?? '').sort()).toEqual(
      Array.from({ length: segments.length }, (_, s) => segmentExecutionName(messageId, s)).sort(),
    );
    const share = outputChunksPerSegment(CHUNKS_PER_SEGMENT, WSP_OUTPUTS.length);
    let events = 0;
    const chunksPerOutput = new Map<string, number>();
    for (const segment of segments) {
      const history = await historyOf(segment.executionArn ?? '');
      expect(history.length, segment.name).toBeLessThan(MAX_HISTORY_EVENTS);
      events += history.length;
      const inSegment = new Map<string, number>();
      for (const e of history) {
        if (e.type !== 'TaskStateEntered' || e.stateEnteredEventDetails?.name !== 'Chunk') continue;
        const input = JSON.parse(e.stateEnteredEventDetails.input ?? '{}') as {
          last?: { output_id?: string };
        };
        const id = input.last?.output_id ?? '';
        inSegment.set(id, (inSegment.get(id) ?? 0) + 1);
      }
      for (const [id, n] of inSegment) {
        expect(n, `${segment.name} ${id}`).toBeLessThanOrEqual(share);
        chunksPerOutput.set(id, (chunksPerOutput.get(id) ?? 0) + n);
      }
    }
    for (const id of WSP_OUTPUTS)
      expect(chunksPerOutput.get(id) ?? 0, id).toBeGreaterThanOrEqual(CAP / CHUNK_ROWS);
    expect(events).toBeGreaterThan(MAX_HISTORY_EVENTS);
  });

  it('admits each event of the cap exactly once, and puts each on the bus once', async () => {
    const receipts = await query<{ event_id: string; decision: string }>(
      `SELECT event_id, decision FROM ig_receipts WHERE platform_run_id = $1 AND ${STREAMED_ONLY}`,
      [PRID],
    );
    const all = WSP_OUTPUTS.flatMap((id) => expected[id] ?? []).sort();
    expect(all).toHaveLength(CAP * WSP_OUTPUTS.length);
    expect(
      receipts
        .filter((r) => r.decision === 'ADMIT')
        .map((r) => r.event_id)
        .sort(),
    ).toEqual(all);
    // A chunk retried after a transient error is answered DUPLICATE for what it had pushed: never a second ADMIT.
    const others = receipts.filter((r) => r.decision !== 'ADMIT');
    expect(others.every((r) => r.decision === 'DUPLICATE' && all.includes(r.event_id))).toBe(true);
    const onBus = (await runEnvelopes(kinesis, BUS_STREAMS, PRID)).map((e) => e.envelope.event_id);
    expect(onBus.sort()).toEqual(all);
  });

  it('records the READY as STREAMED with the emitted count', async () => {
    expect(
      await query<{ status: string; emitted: string }>(
        'SELECT status, emitted FROM wsp_ready_record WHERE message_id = $1 ORDER BY line_id',
        [messageId],
      ),
    ).toEqual([{ status: 'STREAMED', emitted: String(CAP * WSP_OUTPUTS.length) }]);
  });
});
