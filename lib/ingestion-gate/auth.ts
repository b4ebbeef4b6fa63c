import { createHash, timingSafeEqual } from 'node:crypto';
import type { Actor } from './admission.ts';

/**
 * §5.1 `api_key` auth: the `X-IG-Api-Key` header must be one of the allowed keys (compared in constant time);
 * the actor is `SYSTEM::<key>`. Keys come from the environment or SSM, never from git.
 */

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function authenticate(
  headers: Readonly<Record<string, string | undefined>>,
  keys: readonly string[],
): Actor | undefined {
  const given = headers['x-ig-api-key'];
  if (!given) return undefined;
  const g = digest(given);
  let match: string | undefined;
  for (const key of keys) if (timingSafeEqual(g, digest(key))) match = key;
  return match === undefined
    ? undefined
    : { actor_id: `SYSTEM::${match}`, source_type: 'SYSTEM', auth_mode: 'api_key', principal: match };
}
