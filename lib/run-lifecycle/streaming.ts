import { z } from 'zod';
import { EVENT_CLASS_BY_TYPE } from '../contracts/partitioning.ts';
import { PlatformRunId } from '../contracts/platform-run.ts';
import { PlatformError } from '../errors/platform-error.ts';
import { type PhaseEvidenceStore, writePhaseEvidence } from './phase-evidence.ts';

/**
 * P6 STREAMING_ACTIVE and P7 INGEST_COMMITTED. The World Streamer starts the `stream-run` execution named by
 * the READY's message_id when it consumes READY from the control bus; P6 waits until that execution exists,
 * P7 until it has ended, then reconciles what it emitted with the Ingestion Gate's receipts of the run, and measures
 * how far the run's traffic ran ahead of its flows' anchors on the bus (`alignment`, a measure, not a condition).
 * "Not yet" is an error the state machine retries (`STREAM_NOT_STARTED`, `STREAM_STILL_RUNNING`).
 */

export const StreamingRequest = z.object({
  platform_run_id: PlatformRunId,
  scenario_run_id: z.string().regex(/^[0-9a-f]{32}$/),
});

/** "Not yet": the state machine retries it (Retry on STREAM_NOT_STARTED). */
export class StreamNotStarted extends PlatformError<'STREAM_NOT_STARTED'> {
  constructor(message: string) {
    super('STREAM_NOT_STARTED', message, { retryable: true });
  }
}
/** "Not yet": the state machine retries it (Retry on STREAM_STILL_RUNNING). */
export class StreamStillRunning extends PlatformError<'STREAM_STILL_RUNNING'> {
  constructor(message: string) {
    super('STREAM_STILL_RUNNING', message, { retryable: true });
  }
}

export interface ExecutionView {
  name: string;
  status: string;
  output: unknown;
}

export interface ReceiptCounts {
  /** Distinct events with a receipt of each decision, by event type (= output id for engine events). */
  admitted: number;
  duplicate: number;
  quarantined: number;
  events: number;
}

/** The event classes (IG's `event_class`, contracts/partitioning.ts) of a run's traffic and of its flow anchors. */
export interface FlowClasses {
  traffic: readonly string[];
  anchors: readonly string[];
}

export const FLOW_CLASSES: FlowClasses = {
  traffic: [
    EVENT_CLASS_BY_TYPE.s3_event_stream_with_fraud_6B,
    EVENT_CLASS_BY_TYPE.s2_event_stream_baseline_6B,
  ],
  anchors: [EVENT_CLASS_BY_TYPE.s3_flow_anchor_with_fraud_6B, EVENT_CLASS_BY_TYPE.s2_flow_anchor_baseline_6B],
};

/**
 * How far the run's traffic ran ahead of its flows' anchors on the bus, from IG's admissions (admission time =
 * when IG published the record). For each admitted anchor, lead = max(0, the latest `ts_utc` of any traffic event
 * admitted strictly before the anchor − the anchor's `ts_utc`): the event time the traffic had reached when the
 * anchor arrived, beyond the anchor's own.
 */
export interface AnchorLead {
  /** The largest lead over the run's anchors, in seconds of event time (0 without anchors). */
  max_lead_seconds: number;
  /** Flows with an admitted anchor. */
  flows_measured: number;
  /** Of those, flows with an event of their own traffic admitted before their anchor. */
  flows_with_anchor_after_traffic: number;
  /** Flows with admitted traffic and no admitted anchor (e.g. the anchor lies past the run's cap). */
  traffic_flows_without_anchor: number;
}

export interface StreamingPorts {
  /** The message_id of the run's READY (`<platform_run_id>/sr/ready_signal/<scenario_run_id>.json`). */
  readyMessageId(platformRunId: string, scenarioRunId: string): Promise<string | undefined>;
  /** The stream-run execution of that name, if it exists. */
  execution(name: string): Promise<ExecutionView | undefined>;
  receiptsByEventType(platformRunId: string): Promise<Map<string, ReceiptCounts>>;
  trafficLeadOverAnchors(platformRunId: string, classes: FlowClasses): Promise<AnchorLead>;
  evidence: PhaseEvidenceStore;
}

async function streamExecution(request: z.infer<typeof StreamingRequest>, ports: StreamingPorts) {
  const messageId = await ports.readyMessageId(request.platform_run_id, request.scenario_run_id);
  if (!messageId) throw new StreamNotStarted(`no READY signal for ${request.scenario_run_id} yet`);
  const execution = await ports.execution(messageId);
  if (!execution) throw new StreamNotStarted(`no stream-run execution ${messageId} yet`);
  return { messageId, execution };
}

export async function streamingActive(request: unknown, ports: StreamingPorts) {
  const req = StreamingRequest.parse(request);
  const { messageId, execution } = await streamExecution(req, ports);
  const active = execution.status === 'RUNNING' || execution.status === 'SUCCEEDED';
  const written = await writePhaseEvidence(ports.evidence, req.platform_run_id, 'P6_STREAMING_ACTIVE', {
    phase: 'P6',
    gate: 'STREAMING_ACTIVE',
    platform_run_id: req.platform_run_id,
    scenario_run_id: req.scenario_run_id,
    status: active ? 'PASS' : 'FAIL',
    ready_message_id: messageId,
    stream_run_execution: execution.name,
  });
  return {
    active,
    summary: active
      ? `stream-run ${execution.name} is ${execution.status}`
      : `stream-run ${execution.name} is ${execution.status}`,
    message_id: messageId,
    execution_name: execution.name,
    evidence_ref: written.ref,
  };
}

const StreamRunOutput = z.object({
  result: z.object({ status: z.string(), emitted: z.number(), reason: z.string().nullable() }),
  outputs: z.array(z.object({ output_id: z.string(), emitted: z.number(), status: z.string() })),
  /** The event-time window the outputs were aligned on (0: not aligned); absent before alignment existed. */
  align_window_seconds: z.number().int().min(0).optional(),
});

/**
 * P7's alignment measure: the stream's window and the largest lead of traffic over a flow's anchor on the bus
 * (AnchorLead). Aligned, the World Streamer keeps the lead below the window; `within_window` says whether it did
 * (null when not aligned or the window is unknown).
 */
export interface StreamAlignment {
  window_seconds: number | null;
  max_traffic_lead_over_anchor_seconds: number;
  flows_measured: number;
  flows_with_anchor_after_traffic: number;
  traffic_flows_without_anchor: number;
  within_window: boolean | null;
}

export function streamAlignment(windowSeconds: number | null, lead: AnchorLead): StreamAlignment {
  return {
    window_seconds: windowSeconds,
    max_traffic_lead_over_anchor_seconds: lead.max_lead_seconds,
    flows_measured: lead.flows_measured,
    flows_with_anchor_after_traffic: lead.flows_with_anchor_after_traffic,
    traffic_flows_without_anchor: lead.traffic_flows_without_anchor,
    within_window:
      windowSeconds !== null && windowSeconds > 0 ? lead.max_lead_seconds <= windowSeconds : null,
  };
}

export async function ingestCommitted(request: unknown, ports: StreamingPorts) {
  const req = StreamingRequest.parse(request);
  const { execution } = await streamExecution(req, ports);
  if (execution.status === 'RUNNING') throw new StreamStillRunning(`stream-run ${execution.name} is running`);
  const problems: string[] = [];
  const parsed = StreamRunOutput.safeParse(execution.output);
  if (execution.status !== 'SUCCEEDED' || !parsed.success)
    problems.push(`stream-run ${execution.name} ended ${execution.status}`);
  const receipts = await ports.receiptsByEventType(req.platform_run_id);
  const outputs = (parsed.success ? parsed.data.outputs : []).map((o) => {
    const r = receipts.get(o.output_id) ?? { admitted: 0, duplicate: 0, quarantined: 0, events: 0 };
    if (r.events < o.emitted)
      problems.push(`${o.output_id}: ${o.emitted} emitted, ${r.events} with a receipt`);
    return { output_id: o.output_id, emitted: o.emitted, ...r };
  });
  const committed = problems.length === 0;
  const alignment = streamAlignment(
    parsed.success ? (parsed.data.align_window_seconds ?? null) : null,
    await ports.trafficLeadOverAnchors(req.platform_run_id, FLOW_CLASSES),
  );
  const written = await writePhaseEvidence(ports.evidence, req.platform_run_id, 'P7_INGEST_COMMITTED', {
    phase: 'P7',
    gate: 'INGEST_COMMITTED',
    platform_run_id: req.platform_run_id,
    scenario_run_id: req.scenario_run_id,
    status: committed ? 'PASS' : 'FAIL',
    problems,
    stream_run_execution: execution.name,
    outputs,
    alignment,
  });
  return {
    committed: committed && !written.conflict,
    summary: committed ? `${outputs.length} outputs reconciled with their receipts` : problems.join('; '),
    outputs,
    alignment,
    evidence_ref: written.ref,
  };
}
