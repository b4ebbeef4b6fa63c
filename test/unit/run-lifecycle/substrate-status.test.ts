import { describe, expect, it } from 'vitest';
import {
  assessSubstrate,
  type SubstrateCheck,
  type SubstrateProbe,
} from '../../../lib/run-lifecycle/substrate-status.ts';

interface FakeSubstrate {
  buckets: Set<string>;
  streams: Set<string>;
  /** undefined: Postgres is fine; otherwise the probe's failure detail. */
  postgresFailure?: string;
}

/** A probe over an in-memory picture of the substrate; like the real one it answers and never throws. */
function fakeProbe(s: FakeSubstrate): SubstrateProbe & { probed: string[] } {
  const probed: string[] = [];
  const check = (kind: SubstrateCheck['kind'], name: string, ok: boolean, detail: string) => {
    probed.push(`${kind}:${name}`);
    return Promise.resolve<SubstrateCheck>({ kind, name, ok, detail });
  };
  return {
    probed,
    bucket: (name) =>
      check('bucket', name, s.buckets.has(name), s.buckets.has(name) ? 'exists' : 'NoSuchBucket'),
    stream: (name) =>
      check(
        'stream',
        name,
        s.streams.has(name),
        s.streams.has(name) ? 'ACTIVE' : 'ResourceNotFoundException',
      ),
    postgres: () =>
      check(
        'postgres',
        'fraud_platform',
        s.postgresFailure === undefined,
        s.postgresFailure ?? 'migrations 3/3',
      ),
  };
}

const REQUIRED = { buckets: ['oracle-store', 'platform'], streams: ['traffic', 'context', 'audit'] };

describe('assessSubstrate', () => {
  it('is ready when every part answers ok, and the summary counts what was checked', async () => {
    const probe = fakeProbe({ buckets: new Set(REQUIRED.buckets), streams: new Set(REQUIRED.streams) });
    const report = await assessSubstrate(REQUIRED, probe);

    expect(report.phase).toBe('P0');
    expect(report.ready).toBe(true);
    expect(report.missing).toEqual([]);
    expect(report.summary).toBe('substrate ready: postgres, 2 buckets and 3 streams checked');
    expect(report.checks.map((c) => `${c.kind}:${c.name}`)).toEqual([
      'postgres:fraud_platform',
      'bucket:oracle-store',
      'bucket:platform',
      'stream:traffic',
      'stream:context',
      'stream:audit',
    ]);
    expect(probe.probed).toHaveLength(6);
  });

  it('is not ready when Postgres fails, naming it and its detail', async () => {
    const probe = fakeProbe({
      buckets: new Set(REQUIRED.buckets),
      streams: new Set(REQUIRED.streams),
      postgresFailure: 'migration 0003_runs.sql not applied',
    });
    const report = await assessSubstrate(REQUIRED, probe);

    expect(report.ready).toBe(false);
    expect(report.missing).toEqual(['postgres:fraud_platform']);
    expect(report.summary).toContain('Postgres: migration 0003_runs.sql not applied');
    expect(report.summary).toContain('1 of 6 checks failed');
    expect(report.summary).not.toContain('substrate ready');
  });

  it('lists a missing bucket and a missing stream together, with their details', async () => {
    const probe = fakeProbe({ buckets: new Set(['oracle-store']), streams: new Set(['traffic', 'audit']) });
    const report = await assessSubstrate(REQUIRED, probe);

    expect(report.ready).toBe(false);
    expect(report.missing).toEqual(['bucket:platform', 'stream:context']);
    expect(report.summary).toBe(
      'substrate not ready (2 of 6 checks failed): bucket platform: NoSuchBucket; stream context: ResourceNotFoundException',
    );
    expect(report.checks.filter((c) => c.ok)).toHaveLength(4);
  });

  it('with nothing required beyond Postgres, readiness is Postgres alone', async () => {
    const none = { buckets: [], streams: [] };
    const ok = await assessSubstrate(none, fakeProbe({ buckets: new Set(), streams: new Set() }));
    expect(ok.ready).toBe(true);
    expect(ok.summary).toBe('substrate ready: postgres, 0 buckets and 0 streams checked');

    const down = await assessSubstrate(
      none,
      fakeProbe({ buckets: new Set(), streams: new Set(), postgresFailure: 'ECONNREFUSED' }),
    );
    expect(down.ready).toBe(false);
    expect(down.missing).toEqual(['postgres:fraud_platform']);
  });
});
