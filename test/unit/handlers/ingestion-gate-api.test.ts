import './handler-environment.ts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/ingestion-gate/api.ts';
import { PlatformError } from '../../../lib/errors/platform-error.ts';
import { handleRequest } from '../../../lib/ingestion-gate/http-api.ts';
import { httpApiEvent, lambdaContext } from './factories.ts';

vi.mock('../../../lib/adapters/ingestion-gate-dependencies.ts', () => ({
  ingestionGate: () => ({ gateway: { port: 'gateway' }, context: vi.fn() }),
}));
vi.mock('../../../lib/ingestion-gate/http-api.ts', () => ({ handleRequest: vi.fn() }));

const core = vi.mocked(handleRequest);
const context = lambdaContext();

describe('ingestion-gate api handler (HTTP edge)', () => {
  beforeEach(() => {
    core.mockReset();
  });

  it('passes the request with lower-case headers and the base64 body decoded; answers canonical JSON', async () => {
    core.mockResolvedValue({ statusCode: 200, body: { receipt: { offset: 12345678901234567890n } } });
    const event = httpApiEvent({
      path: '/v1/ingest/push',
      headers: { 'X-IG-Api-Key': 'k' },
      body: '{"event_id":"e1"}',
      base64: true,
    });
    const response = await handler(event, context);
    expect(response).toMatchObject({ statusCode: 200, headers: { 'content-type': 'application/json' } });
    expect((response as { body: string }).body).toBe('{"receipt":{"offset":12345678901234567890}}');
    const [request, gateway] = core.mock.calls[0] ?? [];
    expect(gateway).toEqual({ port: 'gateway' });
    expect(request).toMatchObject({
      method: 'POST',
      path: '/v1/ingest/push',
      body: '{"event_id":"e1"}',
      query: {},
      requestId: 'request-1',
    });
    expect(request?.headers['x-ig-api-key']).toBe('k');
  });

  it('an event that is not an HTTP API event: 400 REQUEST_INVALID with the fields, the core not called', async () => {
    const response = await handler({ rawPath: '/v1/ops/health', requestContext: {} }, context);
    expect(response).toMatchObject({ statusCode: 400 });
    const body = JSON.parse((response as { body: string }).body);
    expect(body.error).toBe('REQUEST_INVALID');
    expect(body.detail).toMatch(/requestContext\.http/);
    expect(core).not.toHaveBeenCalled();
  });

  it('a PlatformError from the core: its status and reason code; a 5xx without its detail', async () => {
    core.mockRejectedValueOnce(
      new PlatformError('LOOKUP_CONFLICT', 'two rows', { detail: 'two rows', httpStatus: 409 }),
    );
    const conflict = await handler(httpApiEvent({ method: 'GET', path: '/v1/ops/lookup' }), context);
    expect(conflict).toMatchObject({ statusCode: 409 });
    expect(JSON.parse((conflict as { body: string }).body)).toEqual({
      error: 'LOOKUP_CONFLICT',
      detail: 'two rows',
    });

    core.mockRejectedValueOnce(new PlatformError('BUS_UNAVAILABLE', 'kinesis down', { retryable: true }));
    const unavailable = await handler(httpApiEvent({ method: 'GET', path: '/v1/ops/health' }), context);
    expect(unavailable).toMatchObject({ statusCode: 503 });
    expect(JSON.parse((unavailable as { body: string }).body)).toEqual({
      error: 'BUS_UNAVAILABLE',
      detail: null,
    });
  });

  it('any other error: a plain 500 that says nothing more', async () => {
    core.mockRejectedValueOnce(new Error('connection string postgres://secret'));
    const response = await handler(httpApiEvent({ method: 'GET', path: '/v1/ops/health' }), context);
    expect(response).toMatchObject({ statusCode: 500 });
    expect(JSON.parse((response as { body: string }).body)).toEqual({
      error: 'INTERNAL_ERROR',
      detail: null,
    });
  });
});
