import './handler-environment.ts';
import './silent-logs.ts';
import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/case-management/label-api.ts';
import { DatabaseUnavailable } from '../../../lib/adapters/postgres/pool.ts';
import { takeInCaseTriggers } from '../../../lib/case-management/intake.ts';
import type { CaseStore } from '../../../lib/case-management/ports.ts';
import { type LabelApiAsOfLabels, LabelApiWriteAnswer } from '../../../lib/contracts/label-api.ts';
import type { LabelStorePort } from '../../../lib/label-store/ports.ts';
import { writeLabelAssertion } from '../../../lib/label-store/writer.ts';
import {
  caseRecord,
  RUN,
  steppingClock,
  triggerEnvelope,
  triggerPayload,
} from '../case-management/factories.ts';
import { memoryCaseStore } from '../case-management/memory-store.ts';
import { inMemoryLabelStore } from '../label-store/fakes.ts';
import { httpApiEvent, lambdaContext } from './factories.ts';

/**
 * The label API (functions/case-management/label-api.ts) through its real HTTP edge, core, key check and adapter
 * wiring (the label store's writer and reads in process), on the in-memory case and label stores in place of their
 * Postgres adapters: a POST answered 201 then 200, a GET as of an instant, and every 4xx with its reason code —
 * never a 500 for bad input.
 */

vi.hoisted(() => {
  process.env.CASE_API_KEYS = 'operator=handler-label-key, handler-reader-key';
});
delete process.env.AWS_LAMBDA_LOG_LEVEL;

const world = vi.hoisted(() => ({
  cases: undefined as unknown as CaseStore,
  labels: undefined as unknown as LabelStorePort,
}));
vi.mock('../../../lib/adapters/case-management-stores.ts', () => ({ postgresCaseStore: () => world.cases }));
vi.mock('../../../lib/adapters/label-store-stores.ts', () => ({ postgresLabelStore: () => world.labels }));

const memory = memoryCaseStore();
const labels = inMemoryLabelStore();
const KEY = { 'X-Case-Api-Key': 'handler-label-key' };
const context: Context = lambdaContext();
const trigger = triggerPayload('evt-1');

async function call(
  method: string,
  o: { path?: string; body?: string; query?: Record<string, string>; headers?: Record<string, string> } = {},
) {
  const response = (await (handler as (e: unknown, c: Context) => Promise<unknown>)(
    httpApiEvent({
      method,
      path: o.path ?? '/v1/labels',
      headers: o.headers ?? KEY,
      ...(o.query ? { query: o.query } : {}),
      ...(o.body === undefined ? {} : { body: o.body }),
    }),
    context,
  )) as Exclude<APIGatewayProxyResultV2, string>;
  return { status: response.statusCode, body: JSON.parse(response.body ?? 'null') };
}

const label = (o: Record<string, unknown> = {}) =>
  JSON.stringify({
    case_id: trigger.case_id,
    label_type: 'fraud_disposition',
    label_value: 'FRAUD_CONFIRMED',
    source_type: 'HUMAN',
    actor_id: 'HUMAN::analyst_7',
    effective_time: '2026-12-07T10:00:00Z',
    observed_time: '2026-12-07T11:00:00Z',
    evidence_refs: [{ ref_type: 'CASE_EVENT', ref_id: 'note-1' }],
    platform_run_id: RUN,
    event_id: 'evt-1',
    ...o,
  });

beforeAll(async () => {
  world.cases = memory.store;
  world.labels = labels;
  await takeInCaseTriggers(
    [caseRecord(triggerEnvelope(trigger))],
    { store: memory.store, labels: { write: (i) => writeLabelAssertion(labels, i) }, clock: steppingClock() },
    { requiredPlatformRunId: RUN },
  );
});

describe('label API handler: answers', () => {
  it('POST 201, the same again 200; the case’s timeline holds one INVESTIGATOR_ASSERTION', async () => {
    const first = await call('POST', { body: label() });
    expect(first.status).toBe(201);
    const answer = LabelApiWriteAnswer.parse(first.body);
    const again = await call('POST', { body: label() });
    expect([again.status, again.body.reason_code, again.body.label_assertion_id]).toEqual([
      200,
      'ASSERTION_REPLAY_MATCH',
      answer.label_assertion_id,
    ]);
    const view = await memory.store.caseView(trigger.case_id);
    expect(
      view?.timeline
        .filter((e) => e.timeline_event_type === 'INVESTIGATOR_ASSERTION')
        .map((e) => e.case_timeline_event_id),
    ).toEqual([answer.case_timeline_event_id]);
  });

  it('a base64 body is decoded; GET as of an instant answers per label type', async () => {
    const event = httpApiEvent({
      method: 'POST',
      path: '/v1/labels',
      headers: KEY,
      body: label({ label_type: 'account_takeover', label_value: 'ATO_SUSPECTED' }),
      base64: true,
    });
    const posted = (await (handler as (e: unknown, c: Context) => Promise<unknown>)(event, context)) as {
      statusCode: number;
    };
    expect(posted.statusCode).toBe(201);
    const { status, body } = await call('GET', {
      query: { platform_run_id: RUN, event_id: 'evt-1', as_of: '2026-12-07T11:00:00Z' },
    });
    expect(status).toBe(200);
    expect((body as LabelApiAsOfLabels).labels.map((l) => [l.label_type, l.status, l.label_value])).toEqual([
      ['fraud_disposition', 'RESOLVED', 'FRAUD_CONFIRMED'],
      ['chargeback_status', 'NOT_FOUND', undefined],
      ['account_takeover', 'RESOLVED', 'ATO_SUSPECTED'],
    ]);
  });
});

describe('label API handler: every 4xx names its reason', () => {
  it('401 without a key, 403 with a key no one holds or a reader key that asserts', async () => {
    expect(await call('POST', { body: label(), headers: {} })).toEqual({
      status: 401,
      body: { error: 'UNAUTHORIZED', detail: 'send the key in x-case-api-key' },
    });
    expect(await call('POST', { body: label(), headers: { 'X-Case-Api-Key': 'guess' } })).toEqual({
      status: 403,
      body: { error: 'AUTH_DENIED', detail: null },
    });
    // Another service's key header is not this API's.
    expect(
      (await call('POST', { body: label(), headers: { 'X-IG-Api-Key': 'handler-label-key' } })).status,
    ).toBe(401);
    const reader = { 'X-Case-Api-Key': 'handler-reader-key' };
    expect((await call('POST', { body: label(), headers: reader })).body.error).toBe('AUTH_DENIED');
    expect(
      (await call('GET', { query: { platform_run_id: RUN, event_id: 'evt-1' }, headers: reader })).status,
    ).toBe(200);
  });

  it('400s: a bad body shape, a bad taxonomy value, a HUMAN without an actor, no evidence, a bad query', async () => {
    const before = labels.tables.assertions.size;
    expect(await call('POST', { body: label({ source_type: 'SYSTEM' }) })).toMatchObject({
      status: 400,
      body: { error: 'REQUEST_INVALID' },
    });
    expect((await call('POST', { body: '{' })).body.error).toBe('INVALID_JSON');
    expect((await call('POST', { body: label({ label_value: 'MAYBE' }) })).body.error).toBe(
      'LABEL_VALUE_INVALID',
    );
    expect((await call('POST', { body: label({ actor_id: undefined }) })).body.error).toBe('ACTOR_REQUIRED');
    expect((await call('POST', { body: label({ evidence_refs: [] }) })).body.error).toBe(
      'MISSING_EVIDENCE_REFS',
    );
    expect((await call('GET', { query: { platform_run_id: RUN } })).body.error).toBe('LABEL_QUERY_INVALID');
    expect(labels.tables.assertions.size).toBe(before);
  });

  it('404 CASE_NOT_FOUND and ROUTE_NOT_FOUND; 409 for another run’s subject; 405 METHOD_NOT_ALLOWED', async () => {
    expect(await call('POST', { body: label({ case_id: '0'.repeat(32) }) })).toEqual({
      status: 404,
      body: { error: 'CASE_NOT_FOUND', detail: '0'.repeat(32) },
    });
    expect((await call('POST', { body: label(), path: '/v1/cases' })).body.error).toBe('ROUTE_NOT_FOUND');
    expect(
      (await call('POST', { body: label({ platform_run_id: 'platform_20261208T100000Z' }) })).body,
    ).toMatchObject({ error: 'SUBJECT_RUN_MISMATCH' });
    expect(await call('DELETE', { body: label() })).toEqual({
      status: 405,
      body: { error: 'METHOD_NOT_ALLOWED', detail: 'GET or POST' },
    });
  });

  it('an event that is no HTTP API event: 400 REQUEST_INVALID', async () => {
    const response = (await (handler as (e: unknown, c: Context) => Promise<unknown>)(
      { rawPath: '/v1/labels', requestContext: {} },
      context,
    )) as { statusCode: number; body: string };
    expect([response.statusCode, JSON.parse(response.body).error]).toEqual([400, 'REQUEST_INVALID']);
  });

  it('a store outage is a 503 that says nothing more; any other error a plain 500', async () => {
    world.cases = {
      ...memory.store,
      caseView: () =>
        Promise.reject(new DatabaseUnavailable(new Error('connect ECONNREFUSED 10.0.0.1:5432'))),
    };
    world.labels = {
      ...labels,
      assertionsOfEvent: () => Promise.reject(new Error('postgres://secret@host')),
    };
    try {
      expect(await call('POST', { body: label() })).toEqual({
        status: 503,
        body: { error: 'OPS_DB_UNAVAILABLE', detail: null },
      });
      expect(await call('GET', { query: { platform_run_id: RUN, event_id: 'evt-1' } })).toEqual({
        status: 500,
        body: { error: 'INTERNAL_ERROR', detail: null },
      });
    } finally {
      world.cases = memory.store;
      world.labels = labels;
    }
  });
});
