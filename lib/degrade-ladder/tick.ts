import { baselineOf, nextPosture, type Posture, type Transition } from './ladder.ts';
import type { DegradePolicy } from './policy.ts';
import type { PostureChanged, PostureStore, SignalSource } from './ports.ts';
import { type JudgedSignal, judgeSignals } from './signals.ts';

/**
 * One tick of the ladder (the schedule function's core): read the signals, judge them, decide the next posture from
 * the stored one, and commit it with its change event. An error while reading or judging the signals is itself a
 * verdict: FAIL_CLOSED (`EVALUATOR_ERROR`), so the Decision Fabric never runs on a posture the ladder could not
 * justify. An error of the store escapes (the next tick tries again; the Decision Fabric meanwhile sees the posture
 * age and fails closed past its max age).
 */

export const GLOBAL_SCOPE = 'scope=GLOBAL';

/** The ladder's scope base: its posture and outbox rows are under `dl.v0::<platform_run_id>`. */
export const DEGRADE_LADDER_STREAM_BASE = 'dl.v0';

export interface TickPorts {
  store: PostureStore;
  signals: SignalSource;
  now: () => Date;
}

export interface TickResult {
  posture: Posture;
  transition: Transition;
  signals: JudgedSignal[];
  health: 'GREEN' | 'AMBER' | 'RED';
}

export async function degradeTick(ports: TickPorts, policy: DegradePolicy): Promise<TickResult> {
  const now = ports.now();
  const current = await ports.store.current(GLOBAL_SCOPE);
  const startedAt = new Date(current?.started_at_utc ?? now.toISOString());
  let signals: JudgedSignal[] = [];
  let baseline: ReturnType<typeof baselineOf>;
  try {
    signals = judgeSignals(await ports.signals.read(now), policy, { now, startedAt });
    baseline = baselineOf(signals);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    baseline = { mode: 'FAIL_CLOSED', reason: `EVALUATOR_ERROR:${message.slice(0, 200)}` };
  }
  const evidence = signals.flatMap((s) => (s.evidence_ref ? [s.evidence_ref] : []));
  const step = nextPosture(current, baseline, evidence, policy, now);
  const change: PostureChanged | undefined =
    step.transition === 'NONE'
      ? undefined
      : {
          event_type: 'dl.posture_changed.v1',
          scope_key: GLOBAL_SCOPE,
          transition: step.transition,
          from_mode: current?.mode ?? null,
          posture: step.posture,
        };
  await ports.store.commit(GLOBAL_SCOPE, step.posture, change);
  return { ...step, signals, health: healthOf(step.posture, signals) };
}

/** RED when a required signal is not OK; AMBER when the mode is not NORMAL; else GREEN. */
export function healthOf(posture: Posture, signals: readonly JudgedSignal[]): TickResult['health'] {
  if (signals.some((s) => s.required && s.status !== 'OK') || posture.reason.startsWith('EVALUATOR_ERROR'))
    return 'RED';
  return posture.mode === 'NORMAL' ? 'GREEN' : 'AMBER';
}
