import type {
  ChainStatus,
  DecisionLink,
  EventLink,
  IntentLink,
  LineageChain,
  LineageReason,
  OutcomeLink,
} from '../contracts/decision-log.ts';
import type { EbRef } from '../contracts/receipts.ts';
import type { InletCandidate } from './inlet.ts';

/**
 * Lineage (downstream.md §3.4): one chain per decision_id, built from its decision, intents and outcomes in whatever
 * order they arrive. Its reasons: MISSING_DECISION (no decision yet), MISSING_INTENT_LINK (an outcome whose action
 * has no intent), MISSING_OUTCOME_LINK (an intent with no outcome); none ⇒ RESOLVED. An event that contradicts the
 * chain is a conflict (the chain is left as it was): another run or scenario run, another run_config_digest, or
 * another event (or hash) where the chain already holds one for that decision / action / outcome.
 */

export const LINEAGE_CONFLICTS = [
  'RUN_SCOPE_MISMATCH',
  'RUN_CONFIG_DIGEST_MISMATCH',
  'DECISION_LINK_CONFLICT',
  'INTENT_LINK_CONFLICT',
  'OUTCOME_LINK_CONFLICT',
] as const;
export type LineageConflict = (typeof LINEAGE_CONFLICTS)[number];

/** One event as the chain takes it: the chain it belongs to and its link. */
export interface ChainEvent {
  decision_id: string;
  pins: LineageChain['pins'];
  run_config_digest: string;
  link:
    | { kind: 'decision'; decision: DecisionLink }
    | { kind: 'intent'; intent: IntentLink }
    | { kind: 'outcome'; outcome: OutcomeLink };
}

export type LineageApply =
  | { status: 'NEW' | 'DUPLICATE'; chain: LineageChain }
  | { status: 'CONFLICT'; conflict: LineageConflict; detail: string };

/** The chain event of an accepted candidate read at `ebRef`. */
export function chainEventOf(candidate: InletCandidate, ebRef: EbRef): ChainEvent {
  const event: EventLink = {
    event_id: candidate.event_id,
    event_type: candidate.event_type,
    schema_version: candidate.schema_version,
    ts_utc: candidate.ts_utc,
    payload_hash: candidate.payload_hash,
    eb_ref: ebRef,
  };
  const { lineage } = candidate;
  const base = {
    decision_id: candidate.decision_id,
    pins: candidate.pins,
    run_config_digest: lineage.payload.run_config_digest,
  };
  if (lineage.kind === 'decision') {
    const p = lineage.payload;
    return {
      ...base,
      link: {
        kind: 'decision',
        decision: {
          event,
          action_kind: p.decision.action_kind,
          reason_codes: p.reason_codes,
          decided_at_utc: p.decided_at_utc,
          bundle_ref: p.bundle_ref,
          snapshot_hash: p.snapshot_hash,
          degrade_mode: p.degrade_posture.mode,
          posture_seq: p.degrade_posture.posture_seq,
          policy_rev: p.policy_rev,
          source_event: {
            event_id: p.source_event.event_id,
            event_type: p.source_event.event_type,
            ts_utc: p.source_event.ts_utc,
            origin_offset: p.source_event.origin_offset,
          },
        },
      },
    };
  }
  if (lineage.kind === 'intent') {
    const p = lineage.payload;
    return {
      ...base,
      link: {
        kind: 'intent',
        intent: {
          action_id: p.action_id,
          action_kind: p.action_kind,
          idempotency_key: p.idempotency_key,
          requested_at_utc: p.requested_at_utc,
          event,
        },
      },
    };
  }
  const p = lineage.payload;
  return {
    ...base,
    link: {
      kind: 'outcome',
      outcome: {
        outcome_id: p.outcome_id,
        action_id: p.action_id,
        action_kind: p.action_kind,
        status: p.status,
        completed_at_utc: p.completed_at_utc,
        event,
      },
    },
  };
}

/** The chain's reasons (sorted) and status. */
export function chainStatusOf(chain: Pick<LineageChain, 'decision' | 'intents' | 'outcomes'>): {
  chain_status: ChainStatus;
  unresolved_reasons: LineageReason[];
} {
  const reasons: LineageReason[] = [];
  if (!chain.decision) reasons.push('MISSING_DECISION');
  const intended = new Set(chain.intents.map((i) => i.action_id));
  if (chain.outcomes.some((o) => !intended.has(o.action_id))) reasons.push('MISSING_INTENT_LINK');
  const completed = new Set(chain.outcomes.map((o) => o.action_id));
  if (chain.intents.some((i) => !completed.has(i.action_id))) reasons.push('MISSING_OUTCOME_LINK');
  reasons.sort();
  return { chain_status: reasons.length === 0 ? 'RESOLVED' : 'UNRESOLVED', unresolved_reasons: reasons };
}

const sameEvent = (a: EventLink, b: EventLink) =>
  a.event_id === b.event_id && a.payload_hash === b.payload_hash;

/**
 * Applies one event to its chain (undefined: none yet). `nowUtc` stamps when the chain became UNRESOLVED; a chain
 * that stays UNRESOLVED keeps its first stamp, a RESOLVED one has none.
 */
export function applyToChain(
  chain: LineageChain | undefined,
  event: ChainEvent,
  nowUtc: string,
): LineageApply {
  const current: LineageChain = chain ?? {
    decision_id: event.decision_id,
    platform_run_id: event.pins.platform_run_id,
    scenario_run_id: event.pins.scenario_run_id,
    pins: event.pins,
    run_config_digest: event.run_config_digest,
    decision: null,
    intents: [],
    outcomes: [],
    chain_status: 'UNRESOLVED',
    unresolved_reasons: [],
    unresolved_since_utc: null,
    audit_id: null,
  };
  if (
    current.platform_run_id !== event.pins.platform_run_id ||
    current.scenario_run_id !== event.pins.scenario_run_id
  )
    return {
      status: 'CONFLICT',
      conflict: 'RUN_SCOPE_MISMATCH',
      detail: `chain=${current.platform_run_id}|${current.scenario_run_id};event=${event.pins.platform_run_id}|${event.pins.scenario_run_id}`,
    };
  if (current.run_config_digest !== event.run_config_digest)
    return {
      status: 'CONFLICT',
      conflict: 'RUN_CONFIG_DIGEST_MISMATCH',
      detail: `chain=${current.run_config_digest};event=${event.run_config_digest}`,
    };
  const conflict = (name: LineageConflict, held: EventLink): LineageApply => ({
    status: 'CONFLICT',
    conflict: name,
    detail: `decision_id=${event.decision_id};held=${held.event_id}|${held.payload_hash}`,
  });
  let next: LineageChain;
  const { link } = event;
  if (link.kind === 'decision') {
    if (current.decision)
      return sameEvent(current.decision.event, link.decision.event)
        ? { status: 'DUPLICATE', chain: current }
        : conflict('DECISION_LINK_CONFLICT', current.decision.event);
    next = { ...current, decision: link.decision };
  } else if (link.kind === 'intent') {
    const held = current.intents.find((i) => i.action_id === link.intent.action_id);
    if (held)
      return sameEvent(held.event, link.intent.event)
        ? { status: 'DUPLICATE', chain: current }
        : conflict('INTENT_LINK_CONFLICT', held.event);
    next = { ...current, intents: [...current.intents, link.intent] };
  } else {
    const held = current.outcomes.find((o) => o.outcome_id === link.outcome.outcome_id);
    if (held)
      return sameEvent(held.event, link.outcome.event)
        ? { status: 'DUPLICATE', chain: current }
        : conflict('OUTCOME_LINK_CONFLICT', held.event);
    next = { ...current, outcomes: [...current.outcomes, link.outcome] };
  }
  const status = chainStatusOf(next);
  const stayedUnresolved = chain?.chain_status === 'UNRESOLVED' && chain.unresolved_since_utc !== null;
  const since =
    status.chain_status === 'RESOLVED' ? null : stayedUnresolved ? chain.unresolved_since_utc : nowUtc;
  return { status: 'NEW', chain: { ...next, ...status, unresolved_since_utc: since } };
}
