import './handler-environment.ts';
import './silent-logs.ts';
import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/case-management/case-api.ts';
import { DatabaseUnavailable } from '../../../lib/adapters/postgres/pool.ts';
import { takeInCaseTriggers } from '../../../lib/case-management/intake.ts';
import type { CaseStore } from '../../../lib/case-management/ports.ts';
import { CasePage, CaseView } from '../../../lib/contracts/case-management.ts';
import {
  caseRecord,
  OTHER_RUN,
  RUN,
  scriptedWriter,
  steppingClock,
  triggerEnvelope,
  triggerPayload,
} from '../case-management/factories.ts';
import { memoryCaseStore } from '../case-management/memory-store.ts';
import { httpApiEvent, lambdaContext } from './factories.ts';

/**
 * The case API (functions/case-management/case-api.ts) through its real HTTP edge, core and key check, on the
 * in-memory store's reads: a page of a run's cases (newest first, paged by cursor), one case with its timeline, and
 * every 4xx with its reason code — never a 500 for bad input.
 */

vi.hoisted(() => {
  process.env.CASE_API_KEYS = 'operator=handler-case-key';
});
delete process.env.AWS_LAMBDA_LOG_LEVEL;

const world = vi.hoisted(() => ({
  reads: undefined as unknown as Pick<CaseStore, 'listCases' | 'caseView'>,
}));
vi.mock('../../../lib/adapters/case-management-reads.ts', () => ({ caseReads: () => world.reads }));

const memory = memoryCaseStore();
const KEY = { 'X-Case-Api-Key': 'handler-case-key' };
const context: Context = lambdaContext();

async function get(path: string, query?: Record<string, string>, headers: Record<string, string> = KEY) {
  const response = (await (handler as (e: unknown, c: Context) => Promise<unknown>)(
    httpApiEvent({ method: 'GET', path, headers, ...(query ? { query } : {}) }),
    context,
  )) as Exclude<APIGatewayProxyResultV2, string>;
  return { status: response.statusCode, body: JSON.parse(response.body ?? 'null') };
}

const triggers = ['evt-1', 'evt-2', 'evt-3'].map((e) => triggerPayload(e));

beforeAll(async () => {
  world.reads = memory.store;
  const ports = {
    store: memory.store,
    labels: scriptedWriter(['ACCEPT', 'REJECT', 'THROW']).writer,
    clock: steppingClock(),
  };
  for (const t of triggers)
    await takeInCaseTriggers([caseRecord(triggerEnvelope(t))], ports, { requiredPlatformRunId: RUN });
});

describe('case API: answers', () => {
  it('GET /v1/cases: the run’s cases newest first, with trigger_count and the latest label status', async () => {
    const { status, body } = await get('/v1/cases', { platform_run_id: RUN });
    expect(status).toBe(200);
    const page = CasePage.parse(body);
    expect(page.cases.map((c) => [c.case_subject_key.event_id, c.trigger_count, c.label_status])).toEqual([
      ['evt-3', 1, 'PENDING'],
      ['evt-2', 1, 'REJECTED'],
      ['evt-1', 1, 'ACCEPTED'],
    ]);
    expect(page.next_cursor).toBeNull();
    expect((await get('/v1/cases', { platform_run_id: OTHER_RUN })).body.cases).toEqual([]);
  });

  it('pages by cursor: limit 2, then the rest', async () => {
    const first = CasePage.parse((await get('/v1/cases', { platform_run_id: RUN, limit: '2' })).body);
    expect(first.cases.map((c) => c.case_subject_key.event_id)).toEqual(['evt-3', 'evt-2']);
    expect(first.next_cursor).not.toBeNull();
    const second = CasePage.parse(
      (await get('/v1/cases', { platform_run_id: RUN, limit: '2', cursor: first.next_cursor as string }))
        .body,
    );
    expect(second.cases.map((c) => c.case_subject_key.event_id)).toEqual(['evt-1']);
    expect(second.next_cursor).toBeNull();
  });

  it('GET /v1/cases/{case_id}: the case and its whole timeline in order', async () => {
    const { status, body } = await get(`/v1/cases/${triggers[0]?.case_id}/`);
    expect(status).toBe(200);
    const view = CaseView.parse(body);
    expect(view.case.case_id).toBe(triggers[0]?.case_id);
    expect(view.timeline.map((e) => e.timeline_event_type)).toEqual([
      'CASE_TRIGGERED',
      'EVIDENCE_ATTACHED',
      'EVIDENCE_ATTACHED',
      'LABEL_PENDING',
      'LABEL_ACCEPTED',
    ]);
  });
});

describe('case API: every 4xx names its reason', () => {
  it('401 without a key, 403 with a key no one holds', async () => {
    expect(await get('/v1/cases', { platform_run_id: RUN }, {})).toEqual({
      status: 401,
      body: { error: 'UNAUTHORIZED', detail: 'send the key in x-case-api-key' },
    });
    expect(await get('/v1/cases', { platform_run_id: RUN }, { 'X-Case-Api-Key': 'guess' })).toEqual({
      status: 403,
      body: { error: 'AUTH_DENIED', detail: null },
    });
    // Another service's key header is not this API's.
    expect(
      (await get('/v1/cases', { platform_run_id: RUN }, { 'X-IG-Api-Key': 'handler-case-key' })).status,
    ).toBe(401);
  });

  it.each([
    ['no platform_run_id', {}],
    ['a malformed platform_run_id', { platform_run_id: 'run-1' }],
    ['limit 0', { platform_run_id: RUN, limit: '0' }],
    ['limit over 200', { platform_run_id: RUN, limit: '201' }],
    ['a limit that is no number', { platform_run_id: RUN, limit: 'ten' }],
    ['an unknown parameter', { platform_run_id: RUN, order: 'asc' }],
  ])('400 CASE_QUERY_INVALID: %s', async (_what, query) => {
    const { status, body } = await get('/v1/cases', query as Record<string, string>);
    expect(status).toBe(400);
    expect(body.error).toBe('CASE_QUERY_INVALID');
    expect(typeof body.detail).toBe('string');
  });

  it('400 CURSOR_INVALID for a cursor this API did not answer', async () => {
    for (const cursor of [
      'abc',
      Buffer.from('cases:0').toString('base64url'),
      Buffer.from('cases:12x').toString('base64url'),
    ])
      expect((await get('/v1/cases', { platform_run_id: RUN, cursor })).body.error, cursor).toBe(
        'CURSOR_INVALID',
      );
  });

  it('400 CASE_ID_INVALID; 404 CASE_NOT_FOUND for an id no case has', async () => {
    for (const path of ['/v1/cases/XYZ', `/v1/cases/${'A'.repeat(32)}`, '/v1/cases/%E0%A4%A'])
      expect(await get(path), path).toMatchObject({ status: 400, body: { error: 'CASE_ID_INVALID' } });
    expect(await get(`/v1/cases/${'0'.repeat(32)}`)).toEqual({
      status: 404,
      body: { error: 'CASE_NOT_FOUND', detail: '0'.repeat(32) },
    });
  });

  it('404 ROUTE_NOT_FOUND; 405 METHOD_NOT_ALLOWED', async () => {
    for (const path of ['/v1/case', '/v1/cases/a/b', '/'])
      expect((await get(path)).body.error, path).toBe('ROUTE_NOT_FOUND');
    const post = (await (handler as (e: unknown, c: Context) => Promise<unknown>)(
      httpApiEvent({ method: 'POST', path: '/v1/cases', headers: KEY, body: '{}' }),
      context,
    )) as { statusCode: number; body: string };
    expect([post.statusCode, JSON.parse(post.body).error]).toEqual([405, 'METHOD_NOT_ALLOWED']);
  });

  it('an event that is no HTTP API event: 400 REQUEST_INVALID', async () => {
    const response = (await (handler as (e: unknown, c: Context) => Promise<unknown>)(
      { rawPath: '/v1/cases', requestContext: {} },
      context,
    )) as { statusCode: number; body: string };
    expect([response.statusCode, JSON.parse(response.body).error]).toEqual([400, 'REQUEST_INVALID']);
  });

  it('a store outage is a 503 that says nothing more; any other error a plain 500', async () => {
    world.reads = {
      ...memory.store,
      listCases: () =>
        Promise.reject(new DatabaseUnavailable(new Error('connect ECONNREFUSED 10.0.0.1:5432'))),
      caseView: () => Promise.reject(new Error('postgres://secret@host')),
    };
    try {
      expect(await get('/v1/cases', { platform_run_id: RUN })).toEqual({
        status: 503,
        body: { error: 'OPS_DB_UNAVAILABLE', detail: null },
      });
      expect(await get(`/v1/cases/${triggers[0]?.case_id}`)).toEqual({
        status: 500,
        body: { error: 'INTERNAL_ERROR', detail: null },
      });
    } finally {
      world.reads = memory.store;
    }
  });
});
