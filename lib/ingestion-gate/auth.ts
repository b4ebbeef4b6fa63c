import { createHash, timingSafeEqual } from 'node:crypto';
import type { Actor } from './admission.ts';

/**
 * §5.1 `api_key` auth: the `X-IG-Api-Key` header must be one of the allowed keys (compared in constant time).
 * Each key names its principal (`world_streamer=<key>`); the actor is `SYSTEM::<principal>`. The key itself never
 * leaves this check: receipts, quarantine records, answers and logs name the principal. Keys come from the
 * environment or SSM, never from git.
 */

export interface ApiKey {
  principal: string;
  key: string;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function authenticate(
  headers: Readonly<Record<string, string | undefined>>,
  keys: readonly ApiKey[],
): Actor | undefined {
  const given = headers['x-ig-api-key'];
  if (!given) return undefined;
  const g = digest(given);
  let match: string | undefined;
  // Every key is compared, so the time taken does not tell which one matched.
  for (const { principal, key } of keys) if (timingSafeEqual(g, digest(key))) match = principal;
  return match === undefined
    ? undefined
    : { actor_id: `SYSTEM::${match}`, source_type: 'SYSTEM', auth_mode: 'api_key', principal: match };
}
