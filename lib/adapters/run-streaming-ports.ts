import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { parseJsonLossless } from '../contracts/canonical-json.ts';
import type { AnchorLead, ReceiptCounts, StreamingPorts } from '../run-lifecycle/streaming.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import { sfnClient } from './aws-clients.ts';
import { s3PhaseEvidenceStore } from './phase-evidence-store.ts';
import type { PlatformDependencies } from './platform-dependencies.ts';
import { getObjectText } from './s3-objects.ts';

/**
 * The largest lead of traffic over a flow's anchor on the bus, in one pass over the run's admissions (migration 0012
 * keeps each one's ts_utc and flow_id): admissions ordered by when IG published them (`admitted_at_utc`; the
 * reservation time for a record found on the bus, which has none), anchors before traffic published in the same
 * millisecond; a running maximum of the traffic's event time gives, at each anchor, the event time the traffic had
 * reached before it.
 */
const ANCHOR_LEAD_SQL = `
WITH run AS (
  SELECT event_class = ANY($3::text[]) AS anchor, flow_id, ts_utc::timestamptz AS ts,
         COALESCE(NULLIF(admitted_at_utc, '')::timestamptz, created_at) AS at
  FROM ig_admissions
  WHERE platform_run_id = $1 AND state = 'ADMITTED' AND ts_utc IS NOT NULL
    AND (event_class = ANY($2::text[]) OR event_class = ANY($3::text[]))
), fronts AS (
  SELECT anchor, flow_id, ts, at,
         max(ts) FILTER (WHERE NOT anchor) OVER (ORDER BY at, anchor DESC ROWS UNBOUNDED PRECEDING) AS traffic_front
  FROM run
), anchors AS (
  SELECT DISTINCT ON (flow_id) flow_id, ts, at, traffic_front
  FROM fronts WHERE anchor AND flow_id IS NOT NULL ORDER BY flow_id, at
), first_traffic AS (
  SELECT flow_id, min(at) AS at FROM run WHERE NOT anchor AND flow_id IS NOT NULL GROUP BY flow_id
)
SELECT COALESCE(max(GREATEST(0, EXTRACT(EPOCH FROM a.traffic_front - a.ts))), 0)::float8 AS max_lead_seconds,
       count(a.flow_id) AS flows_measured,
       count(*) FILTER (WHERE a.flow_id IS NOT NULL AND t.at < a.at) AS flows_with_anchor_after_traffic,
       count(*) FILTER (WHERE a.flow_id IS NULL) AS traffic_flows_without_anchor
FROM anchors a FULL JOIN first_traffic t ON t.flow_id = a.flow_id`;

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
    async trafficLeadOverAnchors(platformRunId, classes): Promise<AnchorLead> {
      const res = await (await deps.pool()).query<{
        max_lead_seconds: number;
        flows_measured: string;
        flows_with_anchor_after_traffic: string;
        traffic_flows_without_anchor: string;
      }>(ANCHOR_LEAD_SQL, [platformRunId, classes.traffic, classes.anchors]);
      const row = res.rows[0];
      return {
        max_lead_seconds: Number(row?.max_lead_seconds ?? 0),
        flows_measured: Number(row?.flows_measured ?? 0),
        flows_with_anchor_after_traffic: Number(row?.flows_with_anchor_after_traffic ?? 0),
        traffic_flows_without_anchor: Number(row?.traffic_flows_without_anchor ?? 0),
      };
    },
    evidence: s3PhaseEvidenceStore(deps.s3, env.PLATFORM_BUCKET),
  };
}
