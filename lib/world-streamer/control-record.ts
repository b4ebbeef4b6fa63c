import { z } from 'zod';
import { parseJsonLossless } from '../contracts/canonical-json.ts';
import { CONTROL_TOPIC, ReadySignal } from '../contracts/ready.ts';
import { PoisonError } from '../runtime/ordered-batch.ts';

/**
 * A control-bus record's READY (control-ingress.md §4.1): undefined for another topic; PoisonError for a record
 * that can never succeed (not JSON, no topic, a payload that is not a run_ready_signal).
 */

const ControlEnvelope = z.looseObject({ topic: z.string(), payload: z.unknown() });

export function readyOfRecord(data: string): ReadySignal | undefined {
  let parsed: unknown;
  try {
    parsed = parseJsonLossless(data);
  } catch (error) {
    throw new PoisonError(`not JSON: ${(error as Error).message}`);
  }
  const envelope = ControlEnvelope.safeParse(parsed);
  if (!envelope.success) throw new PoisonError('not a control-bus record (no topic)');
  if (envelope.data.topic !== CONTROL_TOPIC) return undefined;
  const ready = ReadySignal.safeParse(envelope.data.payload);
  if (!ready.success) {
    const issues = ready.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new PoisonError(`payload is not a run_ready_signal: ${issues.slice(0, 512)}`);
  }
  return ready.data;
}
