import type { PlatformGovernanceEvent } from '../contracts/governance.ts';
import type { PlatformRunReport } from '../contracts/run-report.ts';
import type { Provenance } from '../contracts/wire-primitives.ts';
import type { ConformanceInputs } from './conformance.ts';
import type { LifecycleHistoryEvent, PlaneCount } from './timeline.ts';

/** What the run reporter reads and writes (adapters: lib/adapters/run-reporter-*.ts). */

/** The report's blocks as the sources give them, before the time views are computed. */
export type ReportBlocks = Pick<
  PlatformRunReport,
  | 'scenario_run_ids'
  | 'ingress'
  | 'rtdl'
  | 'archive'
  | 'case_labels'
  | 'components'
  | 'decision_quality'
  | 'top_cases'
  | 'evidence_refs'
  | 'artifact_refs'
>;

export interface RunReportSources {
  blocks(platformRunId: string): Promise<ReportBlocks>;
  /** Events per plane per second, for the run. */
  planeCounts(platformRunId: string): Promise<PlaneCount[]>;
  /** The lifecycle execution's history so far (empty when not known). */
  history(executionArn: string | undefined): Promise<LifecycleHistoryEvent[]>;
  provenance(): Provenance;
}

/** How an evidence ref resolved (downstream.md §5 "evidence corridor"). */
export type RefResolution = 'RESOLVED' | 'REF_NOT_FOUND' | 'REF_ACCESS_DENIED' | 'REF_INVALID';

export interface ReportObjects {
  /** Writes (replaces) an object of the platform bucket; answers its `s3://` ref. */
  put(key: string, body: string, contentType: string): Promise<string>;
  /** Whether an evidence ref (`s3://bucket/key`) can be read. */
  resolve(ref: string): Promise<RefResolution>;
}

export interface RunReporterPorts {
  sources: RunReportSources;
  objects: ReportObjects;
  /** Runs `work` holding the run's single-writer lock; undefined when another writer holds it. */
  singleWriter<T>(platformRunId: string, work: () => Promise<T>): Promise<T | undefined>;
  governance: { emit(event: PlatformGovernanceEvent): Promise<boolean> };
  conformanceInputs(): ConformanceInputs;
  pageAssets(): Promise<{ chartJs: string; chartCss: string }>;
  now(): Date;
}
