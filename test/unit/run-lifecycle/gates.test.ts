import { describe, expect, it } from 'vitest';
import { daemonsReady } from '../../../lib/run-lifecycle/daemons-ready.ts';
import { ingestReady } from '../../../lib/run-lifecycle/ingest-ready.ts';
import type { PhaseEvidenceStore } from '../../../lib/run-lifecycle/phase-evidence.ts';

const RUN = 'platform_20260304T000000Z';

function memoryEvidence() {
  const objects = new Map<string, string>();
  const store: PhaseEvidenceStore = {
    async writeOnce(key, body) {
      const ref = `s3://fraud-platform/${key}`;
      const existing = objects.get(key);
      if (existing === undefined) {
        objects.set(key, body);
        return { ref, created: true, identical: true };
      }
      return { ref, created: false, identical: existing === body };
    },
  };
  return { store, objects };
}

describe('P2 DAEMONS_READY', () => {
  it('passes when every required consumer has enabled mappings and the active run is this run', async () => {
    const { store, objects } = memoryEvidence();
    const out = await daemonsReady({ platform_run_id: RUN }, ['ready-consumer'], {
      mappingsOf: async () => [{ source: 'sr-control-bus', state: 'Enabled' }],
      activeRun: async () => RUN,
      evidence: store,
    });
    expect(out).toMatchObject({
      ready: true,
      evidence_ref: `s3://fraud-platform/${RUN}/lifecycle/P2_DAEMONS_READY.json`,
    });
    expect(JSON.parse(objects.get(`${RUN}/lifecycle/P2_DAEMONS_READY.json`) ?? '{}').status).toBe('PASS');
  });

  it('fails naming a missing or disabled mapping and another active run', async () => {
    const { store } = memoryEvidence();
    const out = await daemonsReady({ platform_run_id: RUN }, ['ready-consumer', 'archive'], {
      mappingsOf: async (fn) => (fn === 'archive' ? [] : [{ source: 'sr-control-bus', state: 'Disabled' }]),
      activeRun: async () => 'platform_20260101T000000Z',
      evidence: store,
    });
    expect(out.ready).toBe(false);
    expect(out.summary).toMatch(/ready-consumer mapping on sr-control-bus is Disabled/);
    expect(out.summary).toMatch(/archive has no event-source mapping/);
    expect(out.summary).toMatch(/active run is platform_20260101T000000Z/);
  });
});

describe('P4 INGEST_READY', () => {
  const ports = (anon: number, keyed: number, state = 'GREEN') => ({
    get: async (_path: string, withKey: boolean) =>
      withKey
        ? { status: keyed, body: { state, reasons: state === 'RED' ? ['BUS_UNHEALTHY'] : [] } }
        : { status: anon, body: {} },
    evidence: memoryEvidence().store,
  });

  it('passes on 401 without the key and 200 GREEN/AMBER with it', async () => {
    expect((await ingestReady({ platform_run_id: RUN }, ports(401, 200))).ready).toBe(true);
    expect((await ingestReady({ platform_run_id: RUN }, ports(401, 200, 'AMBER'))).ready).toBe(true);
  });

  it('fails when the gate is open without a key, refuses the key, or is RED', async () => {
    expect((await ingestReady({ platform_run_id: RUN }, ports(200, 200))).summary).toMatch(
      /without a key answered 200/,
    );
    expect((await ingestReady({ platform_run_id: RUN }, ports(401, 401))).summary).toMatch(
      /with the key answered 401/,
    );
    expect((await ingestReady({ platform_run_id: RUN }, ports(401, 200, 'RED'))).summary).toMatch(
      /RED.*BUS_UNHEALTHY/,
    );
  });
});
