import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { parseJsonLossless } from '../contracts/canonical-json.ts';
import type { ReceiptCounts, StreamingPorts } from '../run-lifecycle/streaming.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import { sfnClient } from './aws-clients.ts';
import { s3PhaseEvidenceStore } from './phase-evidence-store.ts';
import type { PlatformDependencies } from './platform-dependencies.ts';
import { getObjectText } from './s3-objects.ts';

/** P6/P7 ports: the READY signal in S3, the stream-run execution in Step Functions, the receipts in Postgres. */
export function streamingPorts(
  env: PlatformEnvironment,
  deps: PlatformDependencies,
  streamRunStateMachineArn: string,
): StreamingPorts {
  const sfn = sfnClient(deps.endpoints);
  const executionPrefix = streamRunStateMachineArn.replace(':stateMachine:', ':execution:');

  return {
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
      try {
        const d = await sfn.send(
          new DescribeExecutionCommand({ executionArn: `${executionPrefix}:${name}` }),
        );
        return { name, status: d.status ?? 'UNKNOWN', output: d.output ? JSON.parse(d.output) : undefined };
      } catch (error) {
        if ((error as Error).name === 'ExecutionDoesNotExist') return undefined;
        throw error;
      }
    },
    async receiptsByEventType(platformRunId) {
      // One pass over the run's receipts: distinct events per decision, and in all.
      const res = await (await deps.pool()).query<{
        event_type: string;
        admitted: string;
        duplicate: string;
        quarantined: string;
        events: string;
      }>(
        `SELECT event_type,
                count(DISTINCT event_id) FILTER (WHERE decision = 'ADMIT') AS admitted,
                count(DISTINCT event_id) FILTER (WHERE decision = 'DUPLICATE') AS duplicate,
                count(DISTINCT event_id) FILTER (WHERE decision = 'QUARANTINE') AS quarantined,
                count(DISTINCT event_id) AS events
         FROM ig_receipts WHERE platform_run_id = $1 GROUP BY event_type`,
        [platformRunId],
      );
      return new Map<string, ReceiptCounts>(
        res.rows.map((r) => [
          r.event_type,
          {
            admitted: Number(r.admitted),
            duplicate: Number(r.duplicate),
            quarantined: Number(r.quarantined),
            events: Number(r.events),
          },
        ]),
      );
    },
    evidence: s3PhaseEvidenceStore(deps.s3, env.PLATFORM_BUCKET),
  };
}
