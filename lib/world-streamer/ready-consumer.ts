import { ReadySignal, RunFactsView } from '../contracts/ready.ts';
import { type ControlBusRecord, readyOfControlRecord } from './control-record.ts';
import { type GovernancePins, governanceEvent, readyRecordLine } from './evidence.ts';
import type {
  ActiveRunReader,
  Clock,
  GovernanceSink,
  ReadyRunStore,
  RunFactsReader,
  StreamRunStarter,
} from './ports.ts';
import type { ReadyReasonCode } from './reason-codes.ts';
import type { WorldStreamerSettings } from './settings.ts';
import { StreamRunInput } from './stream-contracts.ts';

/**
 * READY handling (control-ingress.md §4.1): dedupe by message_id, facts consistency, run scope, then the start of
 * one `stream-run` execution. Runs in the Lambda on the `sr-control-bus` event-source mapping.
 */

export interface ReadyDeps {
  readyRuns: ReadyRunStore;
  facts: RunFactsReader;
  activeRun: ActiveRunReader;
  starter: StreamRunStarter;
  governance: GovernanceSink;
  clock: Clock;
}

export type ReadyOutcome =
  | { status: 'SKIPPED_DUPLICATE'; messageId: string }
  | { status: 'SKIPPED_OUT_OF_SCOPE'; messageId: string; reason: 'PLATFORM_RUN_SCOPE_MISMATCH' }
  | { status: 'FAILED'; messageId: string; reason: ReadyReasonCode }
  /** The stream-run execution `executionName` runs with `input` (`started` false: it had already ended). */
  | { status: 'STARTED'; messageId: string; executionName: string; input: StreamRunInput; started: boolean };

/** The execution name of attempt `n` of a READY: the message_id, then `{message_id}-{n}` for retries of a FAILED one. */
export function executionName(messageId: string, attempt: number): string {
  return attempt <= 1 ? messageId : `${messageId}-${attempt}`;
}

interface LooseRunIds {
  platform_run_id?: string | null;
  scenario_run_id?: string | null;
  run_id?: string | null;
  pins?: { platform_run_id?: string | null; scenario_run_id?: string | null } | null;
}

/**
 * §4.1 step 3: READY and facts agree on `platform_run_id` and `scenario_run_id`; facts fall back to their pins,
 * then `run_id` (the READY to its `run_id` for the scenario run).
 */
export function runIdentityCheck(ready: LooseRunIds, facts: LooseRunIds): ReadyReasonCode | undefined {
  const readyPlatform = ready.platform_run_id;
  const factsPlatform = facts.platform_run_id || facts.pins?.platform_run_id;
  if (!readyPlatform || !factsPlatform) return 'PLATFORM_RUN_ID_MISSING';
  if (readyPlatform !== factsPlatform) return 'PLATFORM_RUN_ID_MISMATCH';
  const readyScenario = ready.scenario_run_id || ready.run_id;
  const factsScenario = facts.scenario_run_id || facts.pins?.scenario_run_id || facts.run_id;
  if (!readyScenario || !factsScenario) return 'SCENARIO_RUN_ID_MISSING';
  if (readyScenario !== factsScenario) return 'SCENARIO_RUN_ID_MISMATCH';
  return undefined;
}

/** Handles one READY payload (already taken out of its control-bus record). Throws only when a port throws. */
export async function handleReady(
  deps: ReadyDeps,
  rawReady: unknown,
  settings: Pick<WorldStreamerSettings, 'engineRunRootOverride' | 'provenance'>,
): Promise<ReadyOutcome> {
  const ready = ReadySignal.parse(rawReady);
  const messageId = ready.message_id;
  const claim = await deps.readyRuns.claim(messageId, deps.clock.now());
  if (claim.kind === 'final') return { status: 'SKIPPED_DUPLICATE', messageId };

  const fail = async (
    reason: ReadyReasonCode,
    extra: { scenarioId?: string } = {},
  ): Promise<ReadyOutcome> => {
    await deps.readyRuns.record(
      readyRecordLine({
        messageId,
        runId: ready.run_id,
        status: 'FAILED',
        reason,
        scenarioId: extra.scenarioId ?? null,
        at: deps.clock.now(),
      }),
    );
    return { status: 'FAILED', messageId, reason };
  };

  let factsRaw: unknown;
  try {
    factsRaw = await deps.facts.read(ready.facts_view_ref);
  } catch {
    return fail('RUN_FACTS_INVALID');
  }
  const parsed = RunFactsView.safeParse(factsRaw);
  if (!parsed.success) return fail('RUN_FACTS_INVALID');
  const facts = parsed.data;

  const mismatch = runIdentityCheck(ready, facts);
  if (mismatch) return fail(mismatch);

  const pins = {
    platform_run_id: ready.platform_run_id,
    scenario_run_id: facts.scenario_run_id,
    manifest_fingerprint: facts.pins.manifest_fingerprint,
    parameter_hash: facts.pins.parameter_hash,
    seed: facts.pins.seed,
    scenario_id: facts.pins.scenario_id,
  };
  const active = await deps.activeRun.activePlatformRunId();
  if (active && active !== ready.platform_run_id) {
    const at = deps.clock.now();
    await deps.readyRuns.record(
      readyRecordLine({
        messageId,
        runId: ready.run_id,
        status: 'SKIPPED_OUT_OF_SCOPE',
        reason: 'PLATFORM_RUN_SCOPE_MISMATCH',
        at,
      }),
    );
    await deps.governance.emit(
      governanceEvent({
        family: 'RUN_CANCELLED',
        dedupeKey: `cancelled:${messageId}:scope_mismatch`,
        pins,
        details: {
          message_id: messageId,
          reason: 'PLATFORM_RUN_SCOPE_MISMATCH',
          active_platform_run_id: active,
        },
        provenance: settings.provenance,
        at,
      }),
    );
    return { status: 'SKIPPED_OUT_OF_SCOPE', messageId, reason: 'PLATFORM_RUN_SCOPE_MISMATCH' };
  }

  const scenarioId = facts.pins.scenario_id;
  if (!scenarioId) return fail('SCENARIO_ID_MISSING');
  const engineRunRoot =
    settings.engineRunRootOverride ??
    ready.oracle_pack_ref?.engine_run_root ??
    facts.oracle_pack_ref?.engine_run_root;
  if (!engineRunRoot) return fail('ENGINE_ROOT_MISSING', { scenarioId });

  const inputOf = (attempt: number) => {
    const session = executionName(messageId, attempt);
    return StreamRunInput.parse({
      message_id: messageId,
      run_id: ready.run_id,
      platform_run_id: ready.platform_run_id,
      scenario_run_id: facts.scenario_run_id,
      scenario_id: scenarioId,
      engine_run_root: engineRunRoot,
      session_id: session,
    });
  };
  await deps.governance.emit(
    governanceEvent({
      family: 'RUN_READY_SEEN',
      dedupeKey: `ready_seen:${messageId}`,
      pins,
      details: {
        message_id: messageId,
        run_id: ready.run_id,
        facts_view_ref: ready.facts_view_ref,
        bundle_hash: ready.bundle_hash,
      },
      provenance: settings.provenance,
      at: deps.clock.now(),
    }),
  );
  let input = inputOf(claim.attempt);
  let name = input.session_id;
  let { started } = await deps.starter.start(name, input);
  if (!started && claim.kind === 'in_progress') {
    // The attempt's execution has ended, yet the READY is still IN_PROGRESS: it ended without recording its
    // result (its finish step never ran — a crash). That attempt FAILED; the next one resumes from the checkpoints.
    const next = await retryLostAttempt(deps, {
      messageId,
      runId: ready.run_id,
      session: name,
      pins,
      settings,
    });
    if (next === undefined) return { status: 'SKIPPED_DUPLICATE', messageId };
    input = inputOf(next);
    name = input.session_id;
    ({ started } = await deps.starter.start(name, input));
  }
  await deps.governance.emit(
    governanceEvent({
      family: 'RUN_STARTED',
      dedupeKey: `started:${name}`,
      pins,
      details: {
        message_id: messageId,
        session_id: name,
        engine_run_root: engineRunRoot,
        scenario_id: scenarioId,
      },
      provenance: settings.provenance,
      at: deps.clock.now(),
    }),
  );
  return { status: 'STARTED', messageId, executionName: name, input, started };
}

/**
 * Records the lost attempt `session` FAILED (ready record, governance RUN_ENDED) and claims the next attempt;
 * undefined when the READY turned final meanwhile (the execution recorded its result after all).
 */
async function retryLostAttempt(
  deps: ReadyDeps,
  lost: {
    messageId: string;
    runId: string;
    session: string;
    pins: GovernancePins;
    settings: Pick<WorldStreamerSettings, 'provenance'>;
  },
): Promise<number | undefined> {
  const current = await deps.readyRuns.claim(lost.messageId, deps.clock.now());
  if (current.kind === 'final') return undefined;
  if (current.kind === 'in_progress') {
    const at = deps.clock.now();
    await deps.governance.emit(
      governanceEvent({
        family: 'RUN_ENDED',
        dedupeKey: `ended:${lost.session}`,
        pins: lost.pins,
        details: {
          message_id: lost.messageId,
          session_id: lost.session,
          status: 'FAILED',
          reason: 'STREAM_FAILED',
          emitted: null,
          detail: 'the stream-run execution ended without recording its result',
        },
        provenance: lost.settings.provenance,
        at,
      }),
    );
    await deps.readyRuns.record(
      readyRecordLine({
        messageId: lost.messageId,
        runId: lost.runId,
        status: 'FAILED',
        reason: 'STREAM_FAILED',
        at,
      }),
    );
  }
  const next = await deps.readyRuns.claim(lost.messageId, deps.clock.now());
  if (next.kind === 'final') return undefined;
  return next.attempt;
}

/**
 * One control-bus record: its READY handled (deduped, in scope, started), nothing for another topic; a payload that
 * is not a READY throws PoisonError.
 */
export async function handleControlRecord(
  deps: Omit<ReadyDeps, 'readyRuns'> & { readyRuns(): Promise<ReadyRunStore> },
  record: ControlBusRecord,
  settings: Pick<WorldStreamerSettings, 'engineRunRootOverride' | 'provenance'>,
): Promise<ReadyOutcome | undefined> {
  const ready = readyOfControlRecord(record);
  if (!ready) return undefined;
  return handleReady({ ...deps, readyRuns: await deps.readyRuns() }, ready, settings);
}
