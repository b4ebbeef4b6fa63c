import { DescribeExecutionCommand, ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import { sfnClient } from '../../lib/adapters/aws-clients.ts';
import { s3PhaseEvidenceStore } from '../../lib/adapters/phase-evidence-store.ts';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { getObjectText } from '../../lib/adapters/s3-objects.ts';
import { parseJsonLossless } from '../../lib/contracts/canonical-json.ts';
import {
  ingestCommitted,
  type ReceiptCounts,
  type StreamingPorts,
  streamingActive,
} from '../../lib/run-lifecycle/streaming.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { createLogger } from '../../lib/runtime/logger.ts';

const env = platformEnvironment();
const deps = platformDependencies(env);
const logger = createLogger('run-streaming');
const sfn = sfnClient(deps.endpoints);
const machineName = process.env.STREAM_RUN_STATE_MACHINE_NAME ?? '';
let machineArn: Promise<string> | undefined;
const streamRunArn = () => {
  machineArn ??= (async () => {
    const given = process.env.STREAM_RUN_STATE_MACHINE_ARN ?? '';
    if (given.startsWith('arn:')) return given;
    const out = await sfn.send(new ListStateMachinesCommand({}));
    const found = out.stateMachines?.find((m) => m.name === machineName)?.stateMachineArn;
    if (!found) throw new Error(`CONFIG_INVALID: no state machine named ${machineName}`);
    return found;
  })();
  return machineArn;
};

const ports: StreamingPorts = {
  async readyMessageId(platformRunId, scenarioRunId) {
    const text = await getObjectText(
      deps.s3,
      env.PLATFORM_BUCKET,
      `${platformRunId}/sr/ready_signal/${scenarioRunId}.json`,
    );
    return text
      ? String((parseJsonLossless(text) as { message_id?: unknown }).message_id ?? '') || undefined
      : undefined;
  },
  async execution(name) {
    const arn = (await streamRunArn()).replace(':stateMachine:', ':execution:');
    try {
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn: `${arn}:${name}` }));
      return { name, status: d.status ?? 'UNKNOWN', output: d.output ? JSON.parse(d.output) : undefined };
    } catch (error) {
      if ((error as Error).name === 'ExecutionDoesNotExist') return undefined;
      throw error;
    }
  },
  async receiptsByEventType(platformRunId) {
    const res = await (await deps.pool()).query<{ event_type: string; decision: string; n: string }>(
      `SELECT event_type, decision, count(DISTINCT event_id) AS n FROM ig_receipts
       WHERE platform_run_id = $1 GROUP BY event_type, decision`,
      [platformRunId],
    );
    const events = await (await deps.pool()).query<{ event_type: string; n: string }>(
      `SELECT event_type, count(DISTINCT event_id) AS n FROM ig_receipts WHERE platform_run_id = $1 GROUP BY event_type`,
      [platformRunId],
    );
    const out = new Map<string, ReceiptCounts>();
    for (const r of events.rows)
      out.set(r.event_type, { admitted: 0, duplicate: 0, quarantined: 0, events: Number(r.n) });
    for (const r of res.rows) {
      const c = out.get(r.event_type);
      if (!c) continue;
      if (r.decision === 'ADMIT') c.admitted = Number(r.n);
      else if (r.decision === 'DUPLICATE') c.duplicate = Number(r.n);
      else c.quarantined = Number(r.n);
    }
    return out;
  },
  evidence: s3PhaseEvidenceStore(deps.s3, env.PLATFORM_BUCKET),
};

/** P6 STREAMING_ACTIVE: the stream-run execution named by the READY message exists and is running or done. */
export const active = async (event: unknown) => {
  const result = await streamingActive(event, ports);
  logger.info('streaming active gate', { active: result.active, summary: result.summary });
  return result;
};

/** P7 INGEST_COMMITTED: the stream-run ended and every emitted event has a receipt. */
export const committed = async (event: unknown) => {
  const result = await ingestCommitted(event, ports);
  logger.info('ingest committed gate', { committed: result.committed, summary: result.summary });
  return result;
};
