import { z } from 'zod';
import {
  CASE_PAGE_LIMIT_DEFAULT,
  CASE_PAGE_LIMIT_MAX,
  decodeCaseCursor,
} from '../contracts/case-management.ts';
import { Hex32, PlatformRunIdPattern } from '../contracts/wire-primitives.ts';
import { describeIssues } from '../errors/platform-error.ts';
import type { CaseStore } from './ports.ts';

/**
 * Case management's read API (downstream.md §4.2), behind an API key in `X-Case-Api-Key` (keys from env/SSM,
 * compared by the adapter in constant time):
 * - `GET /v1/cases?platform_run_id=…[&limit=1..200][&cursor=…]`: a page of the run's cases, newest first, each with
 *   its trigger_count and its latest label's status; `next_cursor` pages on (null on the last page);
 * - `GET /v1/cases/{case_id}`: the case and its whole timeline, in the order it was written.
 * 4xx answers are `{error: REASON_CODE, detail}`: 401 UNAUTHORIZED (no key), 403 AUTH_DENIED (a key no principal
 * holds), 400 CASE_QUERY_INVALID / CURSOR_INVALID / CASE_ID_INVALID, 404 CASE_NOT_FOUND / ROUTE_NOT_FOUND, 405
 * METHOD_NOT_ALLOWED. A store outage is the edge's 503.
 */

export interface CaseApiRequest {
  method: string;
  path: string;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  query: Readonly<Record<string, string | undefined>>;
}

export interface CaseApiAnswer {
  statusCode: number;
  body: unknown;
}

export interface CaseApiDependencies {
  /** The principal holding `key`; undefined when none does. */
  principalOf(key: string): Promise<string | undefined>;
  reads(): Promise<Pick<CaseStore, 'listCases' | 'caseView'>>;
}

export const CASE_API_KEY_HEADER = 'x-case-api-key';

const error = (statusCode: number, code: string, detail: unknown = null): CaseApiAnswer => ({
  statusCode,
  body: { error: code, detail },
});

const ListQuery = z.strictObject({
  platform_run_id: PlatformRunIdPattern,
  limit: z
    .string()
    .regex(/^[1-9][0-9]{0,2}$/, 'expected an integer from 1')
    .transform(Number)
    .pipe(z.number().max(CASE_PAGE_LIMIT_MAX, `at most ${CASE_PAGE_LIMIT_MAX}`))
    .optional(),
  cursor: z.string().min(1).max(128).optional(),
});

const CASES = /^\/v1\/cases$/;
const ONE_CASE = /^\/v1\/cases\/([^/]*)$/;

function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export async function handleCaseRequest(
  req: CaseApiRequest,
  deps: CaseApiDependencies,
): Promise<CaseApiAnswer> {
  const key = req.headers[CASE_API_KEY_HEADER];
  if (!key) return error(401, 'UNAUTHORIZED', `send the key in ${CASE_API_KEY_HEADER}`);
  if ((await deps.principalOf(key)) === undefined) return error(403, 'AUTH_DENIED');

  const path = req.path.replace(/\/+$/, '');
  const one = ONE_CASE.exec(path);
  if (!CASES.test(path) && !one) return error(404, 'ROUTE_NOT_FOUND', `${req.method} ${path}`.slice(0, 256));
  if (req.method.toUpperCase() !== 'GET') return error(405, 'METHOD_NOT_ALLOWED', 'only GET');

  if (one) {
    const caseId = Hex32.safeParse(decodedSegment(one[1] as string));
    if (!caseId.success) return error(400, 'CASE_ID_INVALID', 'a case_id is 32 lowercase hex characters');
    const view = await (await deps.reads()).caseView(caseId.data);
    return view === undefined ? error(404, 'CASE_NOT_FOUND', caseId.data) : { statusCode: 200, body: view };
  }

  const defined = Object.fromEntries(Object.entries(req.query).filter(([, v]) => v !== undefined));
  const query = ListQuery.safeParse(defined);
  if (!query.success) return error(400, 'CASE_QUERY_INVALID', describeIssues(query.error.issues));
  const { platform_run_id, limit, cursor } = query.data;
  const before = cursor === undefined ? undefined : decodeCaseCursor(cursor);
  if (cursor !== undefined && before === undefined)
    return error(400, 'CURSOR_INVALID', 'pass back a next_cursor this API answered');
  const page = await (await deps.reads()).listCases({
    platform_run_id,
    limit: limit ?? CASE_PAGE_LIMIT_DEFAULT,
    before_sequence: before,
  });
  return { statusCode: 200, body: page };
}
