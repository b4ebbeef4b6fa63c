import { type ActionOutcomePayload, OutcomePublishAnswer } from '../contracts/action-layer.ts';
import { outcomeEnvelope } from './outcome.ts';
import type { ActionLayerPorts, PublishRecord } from './ports.ts';

/**
 * One publish call for a batch's outcomes (downstream.md §1 "Publishing", §3.3): their envelopes go to IG together;
 * each answer is parsed — an answer that is not ADMIT, DUPLICATE or QUARANTINE fails closed as AMBIGUOUS, and so
 * does every envelope when the publisher throws (IG unavailable after its retries). The decisions are recorded
 * before the caller answers, so a redelivered batch knows which outcomes to publish again.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: a reason is stored and logged on one line
const CONTROL = /[\u0000-\u001f\u007f]/g;
const reasonText = (text: string) => text.replace(CONTROL, ' ').slice(0, 512);

const ambiguous = (outcome: ActionOutcomePayload, reason: string): PublishRecord => ({
  outcome_id: outcome.outcome_id,
  decision: 'AMBIGUOUS',
  receipt_ref: null,
  reason_code: reasonText(reason),
});

function recordsOf(outcomes: readonly ActionOutcomePayload[], raw: unknown): PublishRecord[] {
  if (!Array.isArray(raw) || raw.length !== outcomes.length)
    return outcomes.map((o) => ambiguous(o, `IG_ANSWER_INVALID: expected ${outcomes.length} answers`));
  return outcomes.map((outcome, i) => {
    const answer = OutcomePublishAnswer.safeParse(raw[i]);
    if (!answer.success) {
      const decision = (raw[i] as { decision?: unknown } | undefined)?.decision;
      return ambiguous(outcome, `IG_DECISION_UNKNOWN:${String(decision)}`);
    }
    return {
      outcome_id: outcome.outcome_id,
      decision: answer.data.decision,
      receipt_ref: answer.data.receipt_ref ?? null,
      reason_code: null,
    };
  });
}

/** Publishes the outcomes (distinct ids) in one call and records each decision; [] when there are none. */
export async function publishOutcomes(
  outcomes: readonly ActionOutcomePayload[],
  ports: Pick<ActionLayerPorts, 'publisher' | 'store'>,
): Promise<PublishRecord[]> {
  if (outcomes.length === 0) return [];
  const envelopes = outcomes.map(outcomeEnvelope);
  let records: PublishRecord[];
  try {
    records = recordsOf(outcomes, await ports.publisher.publish(envelopes));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    records = outcomes.map((o) => ambiguous(o, `IG_UNAVAILABLE:${message}`));
  }
  await ports.store.recordPublish(records);
  return records;
}
