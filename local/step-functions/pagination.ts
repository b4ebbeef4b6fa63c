import { ApiError } from './protocol.ts';

const DEFAULT_PAGE_SIZE = 100;

/**
 * Cursor pagination: the token names the first item of the next page (not an offset), so items
 * added to the front of a newest-first list between calls do not shift later pages.
 */
export function paginate<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  maxResults: number | undefined,
  nextToken: string | undefined,
): { page: T[]; nextToken?: string } {
  const pageSize = maxResults && maxResults > 0 ? maxResults : DEFAULT_PAGE_SIZE;
  let start = 0;
  if (nextToken !== undefined) {
    const key = Buffer.from(nextToken, 'base64url').toString('utf8');
    start = items.findIndex((item) => keyOf(item) === key);
    if (start < 0) throw new ApiError('InvalidToken', 'Invalid or expired pagination token');
  }
  const page = items.slice(start, start + pageSize);
  const next = items[start + pageSize];
  return next === undefined ? { page } : { page, nextToken: Buffer.from(keyOf(next)).toString('base64url') };
}
