import { z } from 'zod';
import { PlatformRunId } from '../contracts/platform-run.ts';
import { PlatformError } from '../errors/platform-error.ts';
import { type PhaseEvidenceStore, writePhaseEvidence } from './phase-evidence.ts';

/**
 * P6 STREAMING_ACTIVE and P7 INGEST_COMMITTED. The World Streamer starts the `stream-run` execution named by
 * the READY's message_id when it consumes READY from the control bus; P6 waits until that execution exists,
 * P7 until it has ended, then reconciles what it emitted with the Ingestion Gate's receipts of the run.
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

export interface StreamingPorts {
  /** The message_id of the run's READY (`<platform_run_id>/sr/ready_signal/<scenario_run_id>.json`). */
  readyMessageId(platformRunId: string, scenarioRunId: string): Promise<string | undefined>;
  /** The stream-run execution of that name, if it exists. */
  execution(name: string): Promise<ExecutionView | undefined>;
  receiptsByEventType(platformRunId: string): Promise<Map<string, ReceiptCounts>>;
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
});

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
  const written = await writePhaseEvidence(ports.evidence, req.platform_run_id, 'P7_INGEST_COMMITTED', {
    phase: 'P7',
    gate: 'INGEST_COMMITTED',
    platform_run_id: req.platform_run_id,
    scenario_run_id: req.scenario_run_id,
    status: committed ? 'PASS' : 'FAIL',
    problems,
    stream_run_execution: execution.name,
    outputs,
  });
  return {
    committed: committed && !written.conflict,
    summary: committed ? `${outputs.length} outputs reconciled with their receipts` : problems.join('; '),
    outputs,
    evidence_ref: written.ref,
  };
}
