import { createHash } from 'node:crypto';

export { sha256Hex } from '../contracts/identity.ts';

/** The sha256 of the byte concatenation of `parts`, in the order given. */
export function sha256OfConcat(parts: Iterable<Uint8Array>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}
