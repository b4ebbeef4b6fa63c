import { z } from 'zod';
import { governanceEvent, readyRecordLine } from './evidence.ts';
import type { Clock, GovernanceSink, ReadyRunStore } from './ports.ts';
import type { StreamReasonCode } from './reason-codes.ts';
import type { WorldStreamerSettings } from './settings.ts';
import { ChunkResult, StreamPlan, StreamResult, StreamRunInput } from './stream-contracts.ts';

/**
 * The end of a `stream-run` execution (control-ingress.md §4.1 steps 7–8, §4.2): one StreamResult from the outputs'
 * last chunks, a ready-record line (final when STREAMED) and governance RUN_ENDED.
 */

/** The finish step's input: the run, and either the failed preparation or the plan with each output's last chunk. */
export const FinishInput = z.strictObject({
  run: StreamRunInput,
  plan: StreamPlan.optional(),
  prepared: StreamResult.optional(),
  outputs: z.array(ChunkResult).default([]),
});
export type FinishInput = z.infer<typeof FinishInput>;

/**
 * §4.2 one result for the stream: emitted = Σ outputs; FAILED with the first failed output's reason in plan order;
 * an output of the plan with no DONE result (it never finished) fails the stream with STREAM_FAILED.
 */
export function combineOutputs(plan: StreamPlan, outputs: readonly ChunkResult[]): StreamResult {
  const byId = new Map(outputs.map((o) => [o.output_id, o]));
  const emitted = outputs.reduce((sum, o) => sum + o.emitted, 0);
  for (const planned of plan.outputs) {
    const last = byId.get(planned.output_id);
    if (last === undefined || (last.status !== 'DONE' && last.status !== 'FAILED')) {
      return {
        status: 'FAILED',
        emitted,
        reason: 'STREAM_FAILED',
        detail: `${planned.output_id} did not finish`,
      };
    }
    if (last.status === 'FAILED') {
      const reason = (last.reason ?? 'STREAM_FAILED') as StreamReasonCode;
      return {
        status: 'FAILED',
        emitted,
        reason,
        ...(last.detail === undefined ? {} : { detail: last.detail }),
      };
    }
  }
  return { status: 'STREAMED', emitted, reason: null };
}

/** What a Catch of stream-run hands the finish step: the error of the state that broke. */
export const CaughtError = z.looseObject({ Error: z.string().optional(), Cause: z.string().optional() });
export type CaughtError = z.infer<typeof CaughtError>;

/** A segment execution that failed, as its `.sync:2` task reports it in the Cause of States.TaskFailed. */
const FailedSegment = z.looseObject({ Status: z.string(), Error: z.string(), Cause: z.string().optional() });

/**
 * The detail of a stream broken past its retries: `Error: Cause` of what broke. When a segment execution broke, the
 * Catch sees States.TaskFailed with the segment's description as the Cause: its own error is named instead.
 */
export function brokenStreamDetail(error: CaughtError): string {
  let name = error.Error ?? 'Error';
  let cause = error.Cause ?? '';
  if (name === 'States.TaskFailed') {
    const segment = FailedSegment.safeParse(parseOrUndefined(cause));
    if (segment.success) {
      name = segment.data.Error;
      cause = segment.data.Cause ?? '';
    }
  }
  return `${name}: ${cause}`.slice(0, 256);
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface FinishDeps {
  readyRuns: ReadyRunStore;
  governance: GovernanceSink;
  clock: Clock;
}

/** Records the outcome of one stream session and returns it. */
export async function finishStream(
  deps: FinishDeps,
  rawInput: unknown,
  settings: Pick<WorldStreamerSettings, 'provenance'>,
): Promise<StreamResult> {
  const input = FinishInput.parse(rawInput);
  const { run, plan } = input;
  const outcome: StreamResult =
    input.prepared ??
    (plan ? combineOutputs(plan, input.outputs) : { status: 'FAILED', emitted: 0, reason: 'STREAM_FAILED' });
  const at = deps.clock.now();
  await deps.governance.emit(
    governanceEvent({
      family: 'RUN_ENDED',
      dedupeKey: `ended:${run.session_id}`,
      pins: {
        platform_run_id: run.platform_run_id,
        scenario_run_id: run.scenario_run_id,
        scenario_id: run.scenario_id,
        ...(plan
          ? {
              manifest_fingerprint: plan.manifest_fingerprint,
              parameter_hash: plan.parameter_hash,
              seed: plan.seed,
            }
          : {}),
      },
      details: {
        message_id: run.message_id,
        session_id: run.session_id,
        status: outcome.status,
        reason: outcome.reason,
        emitted: outcome.emitted,
      },
      provenance: settings.provenance,
      at,
    }),
  );
  await deps.readyRuns.record(
    readyRecordLine({
      messageId: run.message_id,
      runId: run.run_id,
      status: outcome.status,
      reason: outcome.reason,
      emitted: outcome.emitted,
      engineRunRoot: plan?.engine_run_root ?? run.engine_run_root,
      scenarioId: plan?.scenario_id ?? run.scenario_id,
      at,
    }),
  );
  return outcome;
}

/**
 * The stream-finish task's event: when `error` is set (what a Catch of the state machine caught: an output's loop
 * that broke), the session FAILED with STREAM_FAILED and the broken loop as its detail; else the outputs decide.
 */
export const FinishEvent = z.looseObject({ error: CaughtError.optional() });

export async function finishStreamSession(
  deps: FinishDeps,
  event: z.output<typeof FinishEvent>,
  settings: Pick<WorldStreamerSettings, 'provenance'>,
): Promise<StreamResult> {
  const { error, ...rest } = event;
  const input = error
    ? {
        ...rest,
        prepared: {
          status: 'FAILED',
          emitted: 0,
          reason: 'STREAM_FAILED',
          detail: brokenStreamDetail(error),
        },
      }
    : rest;
  return finishStream(deps, input, settings);
}
