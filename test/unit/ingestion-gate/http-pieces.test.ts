import { describe, expect, it } from 'vitest';
import { IngestionError } from '../../../lib/ingestion-gate/admission.ts';
import { authenticate } from '../../../lib/ingestion-gate/auth.ts';
import { healthMonitor } from '../../../lib/ingestion-gate/health.ts';
import { type GatewayDependencies, handleRequest } from '../../../lib/ingestion-gate/http-api.ts';
import { SlidingWindowLimiter } from '../../../lib/ingestion-gate/rate-limit.ts';
import { producerPolicy } from '../../../lib/runtime/ingestion-gate-config.ts';

describe('IG auth', () => {
  it('accepts only listed keys, case-sensitive, and names the actor SYSTEM::<principal>, never the key', () => {
    const keys = [
      { principal: 'world_streamer', key: 'local-parity-wsp' },
      { principal: 'decision_fabric', key: 'local-parity-df' },
    ];
    const actor = authenticate({ 'x-ig-api-key': 'local-parity-df' }, keys);
    expect(actor).toEqual({
      actor_id: 'SYSTEM::decision_fabric',
      source_type: 'SYSTEM',
      auth_mode: 'api_key',
      principal: 'decision_fabric',
    });
    expect(JSON.stringify(actor)).not.toContain('local-parity-df');
    expect(authenticate({ 'x-ig-api-key': 'LOCAL-PARITY-DF' }, keys)).toBeUndefined();
    expect(authenticate({}, keys)).toBeUndefined();
    expect(authenticate({ 'x-ig-api-key': '' }, keys)).toBeUndefined();
  });
});

describe('IG rate limit (sliding 60 s)', () => {
  it('1 per minute: the second push in the minute is refused, the next minute it is allowed; 0 is off', () => {
    let t = 0;
    const one = new SlidingWindowLimiter(1, () => t);
    expect(one.tryTake()).toBe(true);
    t = 59_999;
    expect(one.tryTake()).toBe(false);
    t = 60_000;
    expect(one.tryTake()).toBe(true);
    const off = new SlidingWindowLimiter(0, () => t);
    for (let i = 0; i < 1000; i++) expect(off.tryTake()).toBe(true);
    const batch = new SlidingWindowLimiter(10, () => t);
    expect(batch.tryTake(8)).toBe(true);
    expect(batch.tryTake(3)).toBe(false);
  });
});

describe('IG health (§5.7)', () => {
  const probes = (overrides: Partial<Parameters<typeof healthMonitor>[0]> = {}) => ({
    database: async () => undefined,
    undescribableStreams: async () => [] as string[],
    stuckOutboxRows: async () => 0,
    ...overrides,
  });

  it('GREEN; RED for the database, a missing stream, repeated publish failures or a store failure; AMBER for a backlog', async () => {
    const opts = { intervalMs: 30_000, busFailureThreshold: 3 };
    expect(await healthMonitor(probes(), opts).report()).toEqual({ state: 'GREEN', reasons: [] });
    const down = healthMonitor(
      probes({ database: async () => Promise.reject(new Error('ECONNREFUSED')) }),
      opts,
    );
    expect(await down.report()).toEqual({ state: 'RED', reasons: ['OPS_DB_UNHEALTHY'] });
    const stream = healthMonitor(probes({ undescribableStreams: async () => ['fp.bus.rtdl.v1'] }), opts);
    expect((await stream.report()).reasons).toEqual(['BUS_UNHEALTHY']);
    const stuck = healthMonitor(probes({ stuckOutboxRows: async () => 2 }), opts);
    expect(await stuck.report()).toEqual({ state: 'AMBER', reasons: ['OUTBOX_BACKLOG'] });
    const unknown = healthMonitor(
      probes({ undescribableStreams: async () => Promise.reject(new Error('x')) }),
      opts,
    );
    expect(await unknown.report()).toEqual({ state: 'AMBER', reasons: ['BUS_HEALTH_UNKNOWN'] });

    const bus = healthMonitor(probes(), opts);
    expect((await bus.report()).state).toBe('GREEN');
    bus.recordPublish(false);
    bus.recordPublish(false);
    expect((await bus.report()).state).toBe('GREEN');
    bus.recordPublish(false);
    expect(await bus.report()).toEqual({ state: 'RED', reasons: ['BUS_UNHEALTHY'] });
    bus.recordPublish(true);
    expect(await bus.report()).toEqual({ state: 'GREEN', reasons: [] });
    bus.recordStoreWrite(false);
    bus.recordStoreWrite(false);
    expect((await bus.report()).state).toBe('GREEN');
    bus.recordStoreWrite(false);
    expect(await bus.report()).toEqual({ state: 'RED', reasons: ['OBJECT_STORE_UNHEALTHY'] });
  });

  it('a database call that could not reach Postgres turns it RED at once; it is GREEN again by itself once Postgres answers', async () => {
    let t = 0;
    let up = true;
    const m = healthMonitor(
      probes({ database: async () => (up ? undefined : Promise.reject(new Error('ECONNREFUSED'))) }),
      { intervalMs: 30_000, busFailureThreshold: 3, redRecheckMs: 2_000, now: () => t },
    );
    expect((await m.report()).state).toBe('GREEN');
    up = false;
    t = 10; // well within the interval: only the failed call makes the monitor look again
    m.recordDatabaseUnavailable();
    expect(await m.report()).toEqual({ state: 'RED', reasons: ['OPS_DB_UNHEALTHY'] });
    up = true;
    t = 1_000;
    expect((await m.report()).state).toBe('RED');
    t = 2_010; // RED is rechecked after redRecheckMs, and the request waits for the answer
    expect(await m.report()).toEqual({ state: 'GREEN', reasons: [] });
  });

  it('object-store RED lasts one probe interval after the last failure, so intake can resume', async () => {
    let t = 0;
    const m = healthMonitor(probes(), { intervalMs: 1000, busFailureThreshold: 1, now: () => t });
    m.recordStoreWrite(false);
    expect((await m.report()).reasons).toEqual(['OBJECT_STORE_UNHEALTHY']);
    t = 1500;
    expect(await m.report()).toEqual({ state: 'GREEN', reasons: [] });
  });

  it('RED from publish failures lasts one probe interval after the last failure, so intake can resume', async () => {
    let t = 0;
    const m = healthMonitor(probes(), { intervalMs: 1000, busFailureThreshold: 2, now: () => t });
    m.recordPublish(false);
    m.recordPublish(false);
    expect((await m.report()).state).toBe('RED');
    t = 999;
    expect((await m.report()).state).toBe('RED');
    t = 2000;
    await m.report(); // stale answer, refresh started
    await new Promise((r) => setTimeout(r, 0));
    expect(await m.report()).toEqual({ state: 'GREEN', reasons: [] });
  });

  it('serves the cached result within the interval and refreshes in the background after it', async () => {
    let t = 0;
    let calls = 0;
    const m = healthMonitor(
      probes({
        database: async () => {
          calls++;
        },
      }),
      { intervalMs: 1000, busFailureThreshold: 3, now: () => t },
    );
    await m.report();
    await m.report();
    expect(calls).toBe(1);
    t = 1000;
    await m.report();
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toBe(2);
  });
});

describe('IG HTTP API routing', () => {
  const deps = (overrides: Partial<GatewayDependencies> = {}): GatewayDependencies => ({
    apiKeys: async () => [{ principal: 'world_streamer', key: 'k' }],
    producerPolicy: producerPolicy(),
    limiter: new SlidingWindowLimiter(0),
    maxRequestBytes: 100,
    maxBatchBytes: 1000,
    maxBatchItems: 3,
    admit: async (bodies) => bodies.map(() => new IngestionError('PUBLISH_PENDING_RETRY', 'bus down')),
    health: async () => ({ state: 'GREEN', reasons: [] }),
    lookup: async () => undefined,
    ...overrides,
  });
  const req = (method: string, path: string, body?: string, query: Record<string, string> = {}) => ({
    method,
    path,
    headers: { 'x-ig-api-key': 'k' },
    query,
    body,
  });

  it('maps an undecidable push to 503 with its code, a rate-limited one to 429, leaves an unexpected error to the edge', async () => {
    expect(await handleRequest(req('POST', '/v1/ingest/push', '{}'), deps())).toEqual({
      statusCode: 503,
      body: { error: 'PUBLISH_PENDING_RETRY', detail: 'bus down' },
    });
    const limited = deps({ limiter: new SlidingWindowLimiter(1) });
    await handleRequest(req('POST', '/v1/ingest/push', '{}'), limited);
    expect((await handleRequest(req('POST', '/v1/ingest/push', '{}'), limited)).statusCode).toBe(429);
    const broken = deps({
      admit: async () => {
        throw new Error('boom');
      },
    });
    // The edge answers it 500 INTERNAL_ERROR without the message (test/unit/handlers/ingestion-gate-api.test.ts).
    await expect(handleRequest(req('POST', '/v1/ingest/push', '{}'), broken)).rejects.toThrow('boom');
    expect((await handleRequest(req('POST', '/v1/ingest/push', 'x'.repeat(101)), deps())).statusCode).toBe(
      413,
    );
    expect(
      (await handleRequest(req('GET', '/v1/ops/lookup', undefined, { event_id: 'e' }), deps())).body,
    ).toEqual({});
  });

  it('batch items that cannot be decided now are marked retryable in place', async () => {
    const r = await handleRequest(req('POST', '/v1/ingest/batch', '{"envelopes":[{},{}]}'), deps());
    expect(r.statusCode).toBe(200);
    expect(r.body).toMatchObject({ retry: 2, admitted: 0 });
    expect(
      (await handleRequest(req('POST', '/v1/ingest/batch', '{"envelopes":[{},{},{},{}]}'), deps())).body,
    ).toMatchObject({
      error: 'BATCH_SIZE_INVALID',
    });
    expect((await handleRequest(req('POST', '/v1/ingest/batch', '[]'), deps())).body).toMatchObject({
      error: 'BATCH_INVALID',
    });
  });
});
