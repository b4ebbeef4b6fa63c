import { ConfigInvalid } from '../errors/platform-error.ts';
import type { ApiKey } from '../ingestion-gate/auth.ts';
import { PrincipalName } from '../ingestion-gate/producer-policy.ts';

/**
 * API key lists (`IG_API_KEYS`, `SR_API_KEYS`, or the SSM SecureString that replaces them on AWS): entries separated
 * by commas or white space, each `principal=key` (`world_streamer=…`). The principal is what evidence and logs
 * name; the key never leaves the auth check. A bare key (no `principal=`) takes `bare`'s principal, or is refused
 * when `bare` is undefined. Errors name the entry by position, never by its text (it holds a secret).
 */
export function parseApiKeys(text: string, bare: string | undefined, source: string): ApiKey[] {
  const entries = text
    .split(/[\s,]+/)
    .map((k) => k.trim())
    .filter(Boolean);
  return entries.map((entry, n) => {
    const eq = entry.indexOf('=');
    if (eq < 0) {
      if (bare === undefined)
        throw new ConfigInvalid(`${source}: entry ${n + 1} is a bare key; write each entry as principal=key`);
      return { principal: bare, key: entry };
    }
    const principal = PrincipalName.safeParse(entry.slice(0, eq));
    const key = entry.slice(eq + 1);
    if (!principal.success)
      throw new ConfigInvalid(
        `${source}: entry ${n + 1} names no valid principal (lower_snake_case before "=")`,
      );
    if (key === '') throw new ConfigInvalid(`${source}: entry ${n + 1} (${principal.data}) has an empty key`);
    return { principal: principal.data, key };
  });
}
