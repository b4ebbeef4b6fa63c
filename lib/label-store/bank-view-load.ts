import { z } from 'zod';
import type { RtdlPins } from '../contracts/decision-lane.ts';
import type { LabelWriteResult } from '../contracts/label-store.ts';
import { PlatformRunId } from '../contracts/platform-run.ts';
import { BankViewTrafficRow, bankViewAssertions, trafficEventId } from './bank-view.ts';

/**
 * P10's load of the world's bank view into the label store (issue 15): the engine run's traffic, event-label and
 * case-timeline rows; the traffic events kept are those IG admitted for the run (a run may stream a part of the world);
 * their bank-view assertions (bank-view.ts) written in batches. A reload of the same run replays (same ids and hashes).
 */

export const BankLabelsRequest = z.object({
  platform_run_id: PlatformRunId,
  engine_run_root: z.string().min(1).max(2048),
});

export interface BankViewLoadPorts {
  /** The engine run's rows: traffic (key columns and ts), bank-view event labels, case timeline. */
  engineRows(
    engineRunRoot: string,
  ): Promise<{ traffic: unknown[]; eventLabels: unknown[]; caseTimeline: unknown[] }>;
  /** The traffic event ids IG admitted for the run. */
  admittedTrafficEventIds(platformRunId: string): Promise<ReadonlySet<string>>;
  /** The run's pins as its decisions carry them; undefined when the run has no decision. */
  runPins(platformRunId: string): Promise<RtdlPins | undefined>;
  write(inputs: readonly unknown[]): Promise<LabelWriteResult[]>;
}

const BATCH = 1_000;

export async function loadBankViewLabels(request: unknown, ports: BankViewLoadPorts) {
  const req = BankLabelsRequest.parse(request);
  const run = req.platform_run_id;
  const pins = await ports.runPins(run);
  if (!pins) return { platform_run_id: run, traffic_in_scope: 0, assertions: 0, accepted: 0, rejected: {} };
  const [rows, admitted] = await Promise.all([
    ports.engineRows(req.engine_run_root),
    ports.admittedTrafficEventIds(run),
  ]);
  const traffic = rows.traffic.filter((row) => {
    const parsed = BankViewTrafficRow.safeParse(row);
    return parsed.success && admitted.has(trafficEventId(parsed.data, pins));
  });
  const assertions = bankViewAssertions(
    { traffic, eventLabels: rows.eventLabels, caseTimeline: rows.caseTimeline },
    pins,
  );
  const outcomes: Record<string, number> = {};
  let accepted = 0;
  for (let i = 0; i < assertions.length; i += BATCH)
    for (const r of await ports.write(assertions.slice(i, i + BATCH))) {
      if (r.status === 'ACCEPTED') accepted += 1;
      outcomes[r.reason_code] = (outcomes[r.reason_code] ?? 0) + 1;
    }
  const rejected = Object.fromEntries(
    Object.entries(outcomes).filter(([code]) => !code.startsWith('ASSERTION_')),
  );
  return {
    platform_run_id: run,
    traffic_in_scope: traffic.length,
    assertions: assertions.length,
    accepted,
    outcomes,
    rejected,
  };
}
