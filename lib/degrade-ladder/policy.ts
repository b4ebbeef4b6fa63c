import { z } from 'zod';
import { CapabilitiesMask, MODES, type Mode } from '../contracts/degrade-ladder.ts';

export { CapabilitiesMask, FEATURE_GROUPS, MODES, Mode } from '../contracts/degrade-ladder.ts';

/**
 * The Degrade Ladder's policy (downstream.md §3.1; the reference's `dl.policy.v0` profile `local_parity`, in
 * `config/degrade-ladder/policy.json`): the modes from best to worst, the capabilities each allows the Decision
 * Fabric, the signals it reads (required and optional), how old a signal may be, and the hysteresis.
 */

export const SIGNAL_NAMES = [
  'ofp_health',
  'ieg_health',
  'eb_consumer_lag',
  'registry_health',
  'posture_store_health',
  'control_publish_health',
] as const;
export const SignalName = z.enum(SIGNAL_NAMES);
export type SignalName = z.infer<typeof SignalName>;

const Seconds = z.number().int().nonnegative();

export const DegradePolicy = z
  .strictObject({
    policy_id: z.string().min(1),
    revision: z.string().min(1),
    profile: z.string().min(1),
    mode_sequence: z.tuple([
      z.literal('NORMAL'),
      z.literal('DEGRADED_1'),
      z.literal('DEGRADED_2'),
      z.literal('FAIL_CLOSED'),
    ]),
    signals: z.strictObject({
      required: z.array(SignalName).min(1),
      optional: z.array(SignalName),
      /** A signal observed longer ago than this is STALE. */
      required_max_age_seconds: Seconds,
      /** After the ladder starts, a component health document not written yet is OK (BOOTSTRAP_PENDING) this long. */
      bootstrap_grace_seconds: Seconds,
    }),
    hysteresis: z.strictObject({
      downshift_immediate: z.literal(true),
      /** A better mode is taken only after its baseline held this long (accumulated across ticks). */
      upshift_quiet_period_seconds: Seconds,
    }),
    /** The Decision Fabric treats a posture older than this as missing (FAIL_CLOSED). */
    posture_max_age_seconds: Seconds,
    modes: z.strictObject({
      NORMAL: CapabilitiesMask,
      DEGRADED_1: CapabilitiesMask,
      DEGRADED_2: CapabilitiesMask,
      FAIL_CLOSED: CapabilitiesMask,
    }),
  })
  .refine((p) => p.signals.required.every((s) => !p.signals.optional.includes(s)), {
    message: 'a signal is either required or optional',
    path: ['signals'],
  });
export type DegradePolicy = z.infer<typeof DegradePolicy>;

/** The policy's reference: `<policy_id>@<revision>` (the posture's `policy_rev`). */
export const policyRevOf = (policy: DegradePolicy) => `${policy.policy_id}@${policy.revision}`;

/** How much worse `a` is than `b` (> 0: worse; the mode sequence's order). */
export const compareModes = (a: Mode, b: Mode) => MODES.indexOf(a) - MODES.indexOf(b);
