import { describe, expect, it } from 'vitest';
import { admissionFacts } from '../../../lib/adapters/ingestion-gate-stores.ts';
import {
  type AnchorLead,
  FLOW_CLASSES,
  type FlowClasses,
  ingestCommitted,
  type StreamingPorts,
  StreamStillRunning,
} from '../../../lib/run-lifecycle/streaming.ts';

/** P7 INGEST_COMMITTED with in-memory ports: receipts reconciled, and the alignment of the stream measured. */

const PRID = 'platform_20260101T000000Z';
const SRID = 'e4f2285913cc771d0d8dd1ad475f7a01';
const TRAFFIC = 's3_event_stream_with_fraud_6B';
const ANCHOR = 's3_flow_anchor_with_fraud_6B';

function ports(execution: { status: string; output?: unknown }, lead: AnchorLead) {
  const evidence = new Map<string, string>();
  const asked: FlowClasses[] = [];
  const p: StreamingPorts = {
    readyMessageId: async () => 'm'.repeat(64),
    execution: async (name) => ({ name, ...execution, output: execution.output }),
    receiptsByEventType: async () =>
      new Map([
        [TRAFFIC, { admitted: 20, duplicate: 0, quarantined: 0, events: 20 }],
        [ANCHOR, { admitted: 20, duplicate: 0, quarantined: 0, events: 20 }],
      ]),
    trafficLeadOverAnchors: async (_run, classes) => {
      asked.push(classes);
      return lead;
    },
    evidence: {
      async writeOnce(key, body) {
        const before = evidence.get(key);
        if (before === undefined) evidence.set(key, body);
        return {
          ref: `s3://fraud-platform/${key}`,
          created: before === undefined,
          identical: before === body,
        };
      },
    },
  };
  return { ports: p, evidence, asked };
}

const streamed = (window?: number) => ({
  result: { status: 'STREAMED', emitted: 40, reason: null },
  outputs: [
    { output_id: ANCHOR, emitted: 20, status: 'DONE' },
    { output_id: TRAFFIC, emitted: 20, status: 'DONE' },
  ],
  ...(window === undefined ? {} : { align_window_seconds: window }),
});

const LEAD: AnchorLead = {
  max_lead_seconds: 42.5,
  flows_measured: 20,
  flows_with_anchor_after_traffic: 3,
  traffic_flows_without_anchor: 1,
};

describe('P7 INGEST_COMMITTED: the stream’s alignment', () => {
  it('reports the largest lead of traffic over its flows’ anchors against the window, in the result and evidence', async () => {
    const p = ports({ status: 'SUCCEEDED', output: streamed(60) }, LEAD);
    const result = await ingestCommitted({ platform_run_id: PRID, scenario_run_id: SRID }, p.ports);
    expect(result.committed).toBe(true);
    expect(result.alignment).toEqual({
      window_seconds: 60,
      max_traffic_lead_over_anchor_seconds: 42.5,
      flows_measured: 20,
      flows_with_anchor_after_traffic: 3,
      traffic_flows_without_anchor: 1,
      within_window: true,
    });
    expect(p.asked).toEqual([FLOW_CLASSES]);
    expect(FLOW_CLASSES).toEqual({
      traffic: ['traffic_fraud', 'traffic_baseline'],
      anchors: ['context_flow_fraud', 'context_flow_baseline'],
    });
    const written = JSON.parse([...p.evidence.values()][0] ?? '{}') as {
      alignment?: unknown;
      status?: string;
    };
    expect(written).toMatchObject({ status: 'PASS', alignment: result.alignment });
  });

  it('a lead past the window is reported, not a gate failure; unaligned or unknown windows have no verdict', async () => {
    const past = await ingestCommitted(
      { platform_run_id: PRID, scenario_run_id: SRID },
      ports({ status: 'SUCCEEDED', output: streamed(30) }, LEAD).ports,
    );
    expect(past).toMatchObject({ committed: true, alignment: { window_seconds: 30, within_window: false } });
    const unaligned = await ingestCommitted(
      { platform_run_id: PRID, scenario_run_id: SRID },
      ports({ status: 'SUCCEEDED', output: streamed(0) }, LEAD).ports,
    );
    expect(unaligned.alignment).toMatchObject({ window_seconds: 0, within_window: null });
    const older = await ingestCommitted(
      { platform_run_id: PRID, scenario_run_id: SRID },
      ports({ status: 'SUCCEEDED', output: streamed() }, LEAD).ports,
    );
    expect(older.alignment).toMatchObject({ window_seconds: null, within_window: null });
  });

  it('waits while the stream runs (nothing measured)', async () => {
    const p = ports({ status: 'RUNNING' }, LEAD);
    await expect(
      ingestCommitted({ platform_run_id: PRID, scenario_run_id: SRID }, p.ports),
    ).rejects.toBeInstanceOf(StreamStillRunning);
    expect(p.asked).toEqual([]);
  });
});

describe('what IG keeps of each admission for the measure (migration 0012)', () => {
  it('the envelope’s ts_utc and the payload’s flow_id, exact past 2^53; null when absent or malformed', () => {
    const record =
      '{"event_id":"e","payload":{"flow_id":9007199254740993,"ts_utc":"2026-01-01T00:00:09.000000Z"},' +
      '"ts_utc":"2026-01-01T00:00:05.250000Z"}';
    expect(admissionFacts(record)).toEqual({
      ts_utc: '2026-01-01T00:00:05.250000Z',
      flow_id: '9007199254740993',
    });
    expect(admissionFacts('{"ts_utc":"2026-01-01T00:00:05Z","payload":{}}')).toEqual({
      ts_utc: '2026-01-01T00:00:05Z',
      flow_id: null,
    });
    expect(admissionFacts('{"ts_utc":"soon","payload":{"flow_id":1.5}}')).toEqual({
      ts_utc: null,
      flow_id: null,
    });
    expect(admissionFacts('not json')).toEqual({ ts_utc: null, flow_id: null });
  });
});
