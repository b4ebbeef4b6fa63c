import { z } from 'zod';
import { type EventClass, eventClassOf } from '../contracts/partitioning.ts';

/**
 * Producer authorization (our addition; the reference lets any valid key push any event type): a policy maps each
 * principal to the event classes or types it may push, and optionally the `producer` values it may stamp. A push
 * outside its principal's grant is refused (403 PRODUCER_NOT_AUTHORIZED) before admission: it writes nothing.
 * The policy lives in `config/ingestion-gate/producer-policy.json`.
 */

export const PrincipalName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'a principal is lower_snake_case, 1-64 characters');

const Grant = z
  .strictObject({
    description: z.string().optional(),
    event_classes: z.array(z.string().min(1)).default([]),
    event_types: z.array(z.string().min(1)).default([]),
    /** When given, an envelope's `producer` (if it has one) must be one of these. */
    producers: z.array(z.string().min(1)).optional(),
  })
  .refine((g) => g.event_classes.length + g.event_types.length > 0 || g.description !== undefined, {
    message: 'a grant names event_classes or event_types (or says in description why it pushes nothing)',
  });

export const ProducerPolicy = z.strictObject({
  policy_id: z.string().min(1),
  revision: z.string().min(1),
  principals: z.record(PrincipalName, Grant),
});
export type ProducerPolicy = z.infer<typeof ProducerPolicy>;

/** Why `principal` may not push this body, or undefined when it may (or the body has no event_type to judge). */
export function refusal(
  policy: ProducerPolicy,
  principal: string | undefined,
  body: Readonly<Record<string, unknown>>,
): string | undefined {
  const eventType = body.event_type;
  // A body without a usable event_type is not an event of any type: admission quarantines it (ENVELOPE_INVALID).
  if (typeof eventType !== 'string' || eventType === '') return undefined;
  const grant = principal === undefined ? undefined : policy.principals[principal];
  if (!grant) return `principal ${principal ?? '(none)'} may push no event type (${policy.policy_id})`;
  const eventClass: EventClass = eventClassOf(eventType);
  if (!grant.event_types.includes(eventType) && !grant.event_classes.includes(eventClass))
    return `principal ${principal} may not push ${eventClass} events (${policy.policy_id})`;
  const producer = body.producer;
  if (grant.producers && typeof producer === 'string' && !grant.producers.includes(producer))
    return `principal ${principal} may not push as producer ${JSON.stringify(producer.slice(0, 128))}`;
  return undefined;
}
