import { z } from 'zod';
import { ESCALATION_MODES, type EscalationMode } from '../case-trigger/triggers.ts';
import { parseConfig } from './config.ts';
import { StateMachineArn } from './world-streamer-config.ts';

/** What the P6/P7 gates (streaming-active, ingest-committed) are deployed with beyond the platform environment. */
export const RunStreamingEnvironment = z.object({
  /** The stream-run state machine whose executions P6 and P7 describe. */
  STREAM_RUN_STATE_MACHINE_ARN: StateMachineArn,
});
export type RunStreamingEnvironment = z.infer<typeof RunStreamingEnvironment>;

export function runStreamingEnvironment(
  source: Record<string, unknown> = process.env,
): RunStreamingEnvironment {
  return parseConfig(RunStreamingEnvironment, source, 'run streaming environment');
}

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** P2 DAEMONS_READY: the consumers whose mappings must be enabled, and where ListEventSourceMappings is served. */
export const DaemonsReadyEnvironment = z.object({
  /** The local cloud serves ListEventSourceMappings from its poller; unset on AWS (Lambda's own API). */
  ESM_API_ENDPOINT: optional.pipe(z.url().optional()),
  REQUIRED_CONSUMERS: z
    .string()
    .default('')
    .transform((csv) =>
      csv
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
});
export type DaemonsReadyEnvironment = z.infer<typeof DaemonsReadyEnvironment>;

export function daemonsReadyEnvironment(
  source: Record<string, unknown> = process.env,
): DaemonsReadyEnvironment {
  return parseConfig(DaemonsReadyEnvironment, source, 'daemons ready environment');
}

/** P4 INGEST_READY: the gate's URL and the producer's key (plain locally, an SSM SecureString on AWS). */
export const IngestReadyEnvironment = z.object({
  /** Checked when the gate runs (a P4 without it fails with CONFIG_INVALID, the lifecycle records why). */
  IG_URL: optional.transform((url) => url?.replace(/\/+$/, '')),
  WSP_IG_API_KEY: z.string().default(''),
  WSP_IG_API_KEY_SSM_PARAMETER: optional,
});
export type IngestReadyEnvironment = z.infer<typeof IngestReadyEnvironment>;

export function ingestReadyEnvironment(
  source: Record<string, unknown> = process.env,
): IngestReadyEnvironment {
  return parseConfig(IngestReadyEnvironment, source, 'ingest ready environment');
}

/** P9's bounded wait for the decision chain (`DECISION_CHAIN_TIMEOUT_SECONDS`, default 900). */
export function decisionChainTimeoutSeconds(source: Record<string, unknown> = process.env): number {
  return parseConfig(
    z.object({
      DECISION_CHAIN_TIMEOUT_SECONDS: z
        .string()
        .optional()
        .transform((v) => (v === undefined || v.trim() === '' ? 900 : Number(v)))
        .pipe(z.number().int().min(1).max(86_400)),
    }),
    source,
    'run-lifecycle environment',
  ).DECISION_CHAIN_TIMEOUT_SECONDS;
}

/** P10's bounded wait for the case plane (`CASE_LABELS_TIMEOUT_SECONDS`, default 600). */
export function caseLabelsTimeoutSeconds(source: Record<string, unknown> = process.env): number {
  return parseConfig(
    z.object({
      CASE_LABELS_TIMEOUT_SECONDS: z
        .string()
        .optional()
        .transform((v) => (v === undefined || v.trim() === '' ? 600 : Number(v)))
        .pipe(z.number().int().min(1).max(86_400)),
    }),
    source,
    'run-lifecycle environment',
  ).CASE_LABELS_TIMEOUT_SECONDS;
}

/** P10 counts the escalations the case trigger raises: `CASE_TRIGGER_ESCALATE` as the case trigger reads it. */
export function caseTriggerEscalation(source: Record<string, unknown> = process.env): EscalationMode {
  return parseConfig(
    z.object({
      CASE_TRIGGER_ESCALATE: z
        .string()
        .optional()
        .transform((v) => (v === undefined || v.trim() === '' ? 'non_allow' : v.trim()))
        .pipe(z.enum(ESCALATION_MODES)),
    }),
    source,
    'run-lifecycle environment',
  ).CASE_TRIGGER_ESCALATE;
}
