import { z } from 'zod';
import { parseJsonLossless } from '../contracts/canonical-json.ts';
import { CONTROL_TOPIC, ReadySignal } from '../contracts/ready.ts';
import { describeIssues, PoisonError } from '../errors/platform-error.ts';

/**
 * A control-bus record (control-ingress.md §4.1): JSON (64-bit ints exact) with a topic and a payload. A record
 * that fails this schema can never succeed: the stream edge sets it aside (not JSON, no topic).
 */
const NO_TOPIC = 'not a control-bus record (no topic)';
const ControlEnvelope = z.looseObject(
  { topic: z.string({ error: NO_TOPIC }), payload: z.unknown() },
  { error: NO_TOPIC },
);

export const ControlBusRecord = z
  .string()
  .transform((text, ctx) => {
    try {
      return parseJsonLossless(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `not JSON: ${(error as Error).message}` });
      return z.NEVER;
    }
  })
  .pipe(ControlEnvelope);
export type ControlBusRecord = z.output<typeof ControlBusRecord>;

/** The READY of a control-bus record: undefined for another topic; PoisonError for a payload that is not one. */
export function readyOfControlRecord(record: ControlBusRecord): ReadySignal | undefined {
  if (record.topic !== CONTROL_TOPIC) return undefined;
  const ready = ReadySignal.safeParse(record.payload);
  if (!ready.success)
    throw new PoisonError(
      `payload is not a run_ready_signal: ${describeIssues(ready.error.issues).slice(0, 512)}`,
    );
  return ready.data;
}

/** The READY of a record's text: undefined for another topic; PoisonError for a record that can never succeed. */
export function readyOfRecord(data: string): ReadySignal | undefined {
  const record = ControlBusRecord.safeParse(data);
  if (!record.success) throw new PoisonError(describeIssues(record.error.issues));
  return readyOfControlRecord(record.data);
}
