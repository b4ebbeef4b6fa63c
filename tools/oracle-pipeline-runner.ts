import type { HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { followExecution, type LifecycleOutcome } from '../local/lifecycle-runner.ts';

/** Runs the oracle-pipeline state machine and turns its history into per-output progress lines. */

export interface OracleProgress {
  line: string;
}

const ViewFigures = z.object({
  output_id: z.string(),
  stream_view_id: z.string(),
  decision: z.enum(['run', 'skip']),
  rows: z.number(),
  parts: z.number(),
  min_ts_utc: z.string().nullish(),
  max_ts_utc: z.string().nullish(),
});
export const OraclePipelineSummary = z.object({
  engine_run_prefix: z.string(),
  engine_run_root: z.string(),
  oracle_pack_id: z.string(),
  check: z.string(),
  views: z.array(ViewFigures),
});
export type OraclePipelineSummary = z.infer<typeof OraclePipelineSummary>;

const SyncOut = z.object({
  sync: z.object({ objects: z.number(), copied: z.number(), skipped: z.number(), bytes: z.number() }),
});
const SealOut = z.object({ seal: z.object({ oracle_pack_id: z.string(), created: z.boolean() }) });
const CheckOut = z.object({
  check: z.object({ status: z.string(), output_ids: z.array(z.string()), summary: z.string() }),
});
const PlanOut = z.object({
  output_id: z.string(),
  prepared: z.object({ decision: z.string(), windows: z.array(z.unknown()) }),
});
const WindowOut = z.object({
  output_id: z.string(),
  window: z.number(),
  windows: z.number(),
  rows: z.number(),
});
const WindowStatsOut = z.object({ output_id: z.string(), index: z.number() });

export interface OracleOutcome extends LifecycleOutcome {
  summary: OraclePipelineSummary | undefined;
}

/** Progress lines for the states that matter; anything unparseable is simply not reported. */
export function progressLine(event: HistoryEvent, sortedWindows: Map<string, number>): string | undefined {
  const exited = event.stateExitedEventDetails;
  if (!exited?.name || exited.output === undefined) return undefined;
  let output: unknown;
  try {
    output = JSON.parse(exited.output);
  } catch {
    return undefined;
  }
  switch (exited.name) {
    case 'Sync': {
      const o = SyncOut.safeParse(output);
      if (!o.success) return undefined;
      const { objects, copied, skipped, bytes } = o.data.sync;
      return `sync     ${objects} objects: ${copied} copied (${(bytes / 1e6).toFixed(1)} MB), ${skipped} already there`;
    }
    case 'Seal': {
      const o = SealOut.safeParse(output);
      return o.success
        ? `seal     oracle_pack_id ${o.data.seal.oracle_pack_id} (${o.data.seal.created ? 'sealed now' : 'already sealed, identical'})`
        : undefined;
    }
    case 'Check': {
      const o = CheckOut.safeParse(output);
      return o.success
        ? `check    ${o.data.check.summary}; ${o.data.check.output_ids.length} outputs to sort`
        : undefined;
    }
    case 'PlanWindows': {
      const o = PlanOut.safeParse(output);
      if (!o.success) return undefined;
      const { decision, windows } = o.data.prepared;
      return decision === 'skip'
        ? `${o.data.output_id}: valid receipt, skipped`
        : `${o.data.output_id}: ${windows.length} window(s) planned`;
    }
    case 'SortWindow': {
      const o = WindowOut.safeParse(output);
      if (!o.success) return undefined;
      const done = (sortedWindows.get(o.data.output_id) ?? 0) + 1;
      sortedWindows.set(o.data.output_id, done);
      return `${o.data.output_id}: window ${o.data.window} sorted, ${o.data.rows} rows (${done}/${o.data.windows})`;
    }
    case 'WindowStats': {
      const o = WindowStatsOut.safeParse(output);
      return o.success ? `${o.data.output_id}: window ${o.data.index} validated` : undefined;
    }
    case 'Finalize': {
      const o = ViewFigures.safeParse(output);
      return o.success
        ? `${o.data.output_id}: view validated and committed, ${o.data.rows} rows in ${o.data.parts} part(s)`
        : undefined;
    }
    default:
      return undefined;
  }
}

export async function runOraclePipeline(
  sfn: SFNClient,
  stateMachineArn: string,
  input: Record<string, unknown>,
  onProgress: (p: OracleProgress) => void,
): Promise<OracleOutcome> {
  const sortedWindows = new Map<string, number>();
  const outcome = await followExecution(sfn, stateMachineArn, input, {
    namePrefix: 'oracle',
    onEvent: (e) => {
      const line = progressLine(e, sortedWindows);
      if (line) onProgress({ line });
    },
  });
  const summary = OraclePipelineSummary.safeParse(outcome.output);
  return { ...outcome, summary: summary.success ? summary.data : undefined };
}
