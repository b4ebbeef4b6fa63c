import { createHash } from 'node:crypto';

/** hex64: the sha256 of a UTF-8 string or of bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The sha256 of the byte concatenation of `parts`, in the order given. */
export function sha256OfConcat(parts: Iterable<Uint8Array>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}
