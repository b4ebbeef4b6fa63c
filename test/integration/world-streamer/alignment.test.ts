import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { lambdaClient } from '../../../lib/adapters/aws-clients.ts';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { platformRunIdAt } from '../../../lib/contracts/platform-run.ts';
import { clientsFor } from '../../support/clients.ts';
import { eventually } from '../../support/eventually.ts';
import { STREAMED_ONLY } from '../../support/streamed-receipts.ts';
import {
  ACCEPTANCE_WORLD,
  type OracleWorld,
  oracleWorld,
  PLATFORM_BUCKET,
  pinRun,
  publishReady,
  readyFor,
  streamExecutionArn,
  WSP_OUTPUTS,
} from '../../support/world-streamer.ts';

/**
 * Event-time alignment across the outputs on the local cloud (docs/scenario-runner-and-world-streamer.md,
 * "Event-time alignment"): a run streamed without pacing, its outputs aligned on the deployment's 60 s windows.
 * Every flow's anchor reaches the gate before traffic a whole window of event time later than it, and P7
 * INGEST_COMMITTED (the run lifecycle's Lambda) measures and reports the largest lead of traffic over an anchor.
 */

const { state } = inject('stack');
const { s3, sfn, kinesis } = clientsFor(state);
const WINDOW = 60;
const CAP = 60;
const TRAFFIC = 's3_event_stream_with_fraud_6B';
const ANCHOR = 's3_flow_anchor_with_fraud_6B';
const stamp = Date.now() - 240 * 3_600_000 - Math.floor(Math.random() * 1000) * 1000;
const PRID = platformRunIdAt(new Date(stamp));
const SRID = sha256Hex(`wsp-alignment|${stamp}`).slice(0, 32);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsp-alignment-'));
const pool = new pg.Pool({ connectionString: state.databaseUrl, max: 2 });
let oracle: OracleWorld;
let messageId: string;
let execution: { status?: string; output?: string; error?: string; cause?: string };
/** The largest lead the test computes from the admissions itself. */
let measured: number | undefined;

interface Admission {
  event_type: string;
  flow_id: string | null;
  ts: Date;
  at: Date;
}

beforeAll(async () => {
  oracle = await oracleWorld(sfn, state, path.join(dir, 'world'), ACCEPTANCE_WORLD);
  // The run's own window (the deployment's default is 600 s), pinned with the run as P1 pins it.
  await pinRun(pool, PRID, { max_events_per_output: CAP, speedup: 0, align_window_seconds: WINDOW });
  const fixture = readyFor({
    platformRunId: PRID,
    scenarioRunId: SRID,
    oracle,
    bundleHash: sha256Hex(`wsp-alignment|bundle|${stamp}`),
  });
  messageId = fixture.ready.message_id;
  await publishReady(s3, kinesis, fixture);
  // What SR writes with READY, and P6/P7 read to find the stream-run execution.
  await s3.send(
    new PutObjectCommand({
      Bucket: PLATFORM_BUCKET,
      Key: `${PRID}/sr/ready_signal/${SRID}.json`,
      Body: JSON.stringify(fixture.ready),
    }),
  );
  execution = await eventually(
    async () => {
      const d = await sfn
        .send(new DescribeExecutionCommand({ executionArn: streamExecutionArn(state, messageId) }))
        .catch(() => undefined);
      return d === undefined || d.status === 'RUNNING' ? undefined : d;
    },
    'the stream-run execution of the READY to end',
    420_000,
  );
}, 720_000);

afterAll(async () => {
  await pool.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('outputs aligned in event time, without pacing', () => {
  it('streams every output to its cap, aligned on the run’s window', () => {
    expect(execution.error ?? execution.status, execution.cause).toBe('SUCCEEDED');
    const output = JSON.parse(execution.output ?? '{}') as {
      result: unknown;
      align_window_seconds: number;
      outputs: Array<{ output_id: string; status: string; reason: string | null; emitted: number }>;
    };
    expect(output.align_window_seconds).toBe(WINDOW);
    expect(output.result).toEqual({ status: 'STREAMED', emitted: CAP * WSP_OUTPUTS.length, reason: null });
    for (const o of output.outputs)
      expect(o).toMatchObject({ status: 'DONE', reason: 'max_events', emitted: CAP });
  });

  it('admits no flow’s anchor after traffic a whole window of event time later than it', async () => {
    const rows = (
      await pool.query<Admission>(
        `SELECT event_type, flow_id, ts_utc::timestamptz AS ts,
                COALESCE(NULLIF(admitted_at_utc, '')::timestamptz, created_at) AS at
         FROM ig_admissions WHERE platform_run_id = $1 AND state = 'ADMITTED' AND ${STREAMED_ONLY}`,
        [PRID],
      )
    ).rows;
    expect(rows).toHaveLength(CAP * WSP_OUTPUTS.length);
    expect(rows.every((r) => r.ts instanceof Date)).toBe(true);
    const anchors = rows.filter((r) => r.event_type === ANCHOR);
    const traffic = rows.filter((r) => r.event_type === TRAFFIC);
    expect(anchors.every((r) => r.flow_id !== null) && traffic.every((r) => r.flow_id !== null)).toBe(true);
    // Per anchor: the latest event time of traffic admitted before it, beyond the anchor's own.
    const leads = anchors.map((a) => {
      const before = traffic.filter((t) => t.at.getTime() < a.at.getTime());
      const front = Math.max(...before.map((t) => t.ts.getTime()), -Infinity);
      return Math.max(0, (front - a.ts.getTime()) / 1000);
    });
    const largest = Math.max(...leads);
    expect(largest).toBeLessThanOrEqual(WINDOW);
    // Traffic of flows whose anchors were streamed is admitted after its anchor, or within the same window.
    const anchorOf = new Map(anchors.map((a) => [a.flow_id, a]));
    for (const t of traffic) {
      const a = anchorOf.get(t.flow_id);
      if (a && t.at.getTime() < a.at.getTime())
        expect((t.ts.getTime() - a.ts.getTime()) / 1000).toBeLessThan(WINDOW);
    }
    measured = largest;
  });

  it('P7 INGEST_COMMITTED reports the largest lead of traffic over an anchor, within the window', async () => {
    const lambda = lambdaClient({ region: state.region, lambda: state.endpoints.lambda });
    try {
      const out = await lambda.send(
        new InvokeCommand({
          FunctionName: state.functions.find((f) => f.endsWith('-ingest-committed')) ?? 'ingest-committed',
          Payload: Buffer.from(JSON.stringify({ platform_run_id: PRID, scenario_run_id: SRID })),
        }),
      );
      const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
      expect(out.FunctionError, text).toBeUndefined();
      const result = JSON.parse(text) as {
        committed: boolean;
        alignment: {
          window_seconds: number;
          max_traffic_lead_over_anchor_seconds: number;
          flows_measured: number;
          within_window: boolean;
        };
      };
      expect(result.committed).toBe(true);
      expect(result.alignment).toMatchObject({
        window_seconds: WINDOW,
        flows_measured: CAP,
        within_window: true,
      });
      expect(result.alignment.max_traffic_lead_over_anchor_seconds).toBeLessThanOrEqual(WINDOW);
      // The test measures from JavaScript Dates (milliseconds); P7 from the events' microseconds: equal within 1 ms.
      expect(Math.abs(result.alignment.max_traffic_lead_over_anchor_seconds - (measured ?? -1))).toBeLessThan(
        0.001,
      );
    } finally {
      lambda.destroy();
    }
  });

  it('ran the session in segments of rounds (stream-output executions named after it)', async () => {
    const machine = state.stateMachines.find((m) => m.name.endsWith('-stream-output'));
    const listed = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: machine?.arn ?? 'missing', maxResults: 1000 }),
    );
    const ours = (listed.executions ?? []).filter((e) => e.name?.startsWith(`${messageId}-`));
    expect(ours.length).toBeGreaterThanOrEqual(1);
    expect(ours.every((e) => e.status === 'SUCCEEDED')).toBe(true);
  });
});
