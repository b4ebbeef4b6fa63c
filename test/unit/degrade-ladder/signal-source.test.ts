import { describe, expect, it } from 'vitest';
import { degradeSignalSource } from '../../../lib/adapters/degrade-ladder-signals.ts';
import type { PlatformDependencies } from '../../../lib/adapters/platform-dependencies.ts';
import type { PostureStore } from '../../../lib/degrade-ladder/ports.ts';
import type { SignalReading } from '../../../lib/degrade-ladder/signals.ts';
import { type ScriptedAnswer, scriptedPool } from '../../support/scripted-pool.ts';

/**
 * The degrade ladder's signal source (lib/adapters/degrade-ladder-signals.ts) against a scripted pool: each signal
 * read from the run's rows — projector health by its own rules (nothing written yet is MISSING), the consumers'
 * lag against IG's admissions, the registry snapshot, the posture store, the outbox — and a failed read as ERROR.
 */

const RUN = 'platform_20261207T100000Z';
const NOW = new Date('2026-12-07T10:00:00.000Z');
const FRESH = new Date('2026-12-07T09:59:50.000Z');

const checkpoint = (topic: string, watermark: string | null) => ({
  topic,
  partition_id: 0,
  next_offset: '9',
  offset_kind: 'kinesis_sequence',
  watermark_ts_utc: watermark,
  updated_at_utc: FRESH,
});

interface World {
  iegCheckpoints?: unknown[];
  iegFailures?: number;
  ofpCheckpoints?: unknown[];
  ofpMetrics?: Record<string, number>;
  admitted?: { topic: string; partition: number; events: string; max_offset: string }[];
  accounted?: Record<string, { topic: string; n: string }[]>;
  lateOutbox?: number;
  fail?: string;
}

function sourceOver(
  world: World,
  options: { snapshot?: string; store?: PostureStore; maxLag?: number } = {},
) {
  const answer = (sql: string): ScriptedAnswer => {
    if (world.fail && sql.includes(world.fail)) throw new Error(`scripted failure on ${world.fail}`);
    if (sql.includes('FROM ieg_checkpoints')) return { rows: world.iegCheckpoints ?? [] };
    if (sql.includes('FROM ieg_metrics')) return { rows: [{ metric_name: 'events_seen', total: '10' }] };
    if (sql.includes('count(*) AS n FROM ieg_apply_failures'))
      return { rows: [{ n: String(world.iegFailures ?? 0) }] };
    if (sql.includes('FROM ofp_checkpoints')) return { rows: world.ofpCheckpoints ?? [] };
    if (sql.includes('FROM ofp_metrics'))
      return {
        rows: Object.entries(world.ofpMetrics ?? {}).map(([metric_name, value]) => ({ metric_name, value })),
      };
    if (sql.includes('FROM ig_admissions')) return { rows: world.admitted ?? [] };
    for (const [table, rows] of Object.entries(world.accounted ?? {}))
      if (sql.includes(`FROM ${table}`) && sql.includes('count(DISTINCT event_id)')) return { rows };
    if (sql.includes('FROM dl_posture_outbox')) return { rows: [{ n: String(world.lateOutbox ?? 0) }] };
    return { rows: [] };
  };
  const db = scriptedPool(answer);
  const deps = { pool: async () => db.pool } as unknown as PlatformDependencies;
  const store: PostureStore = options.store ?? {
    current: async () => undefined,
    commit: async () => undefined,
  };
  return degradeSignalSource(deps, {
    platformRunId: RUN,
    graphThresholds: {
      amberWatermarkAgeSeconds: 500_000_000,
      redWatermarkAgeSeconds: 800_000_000,
      amberCheckpointAgeSeconds: 86_400,
      redCheckpointAgeSeconds: 172_800,
      amberApplyFailures: 1,
      redApplyFailures: 100,
    },
    featureThresholds: { amberWatermarkAgeSeconds: 500_000_000, redWatermarkAgeSeconds: 800_000_000 },
    maxConsumerLagEvents: options.maxLag ?? 100,
    maxUnpublishedSeconds: 120,
    postureStore: store,
    registrySnapshot: async () => (options.snapshot ? { snapshot_id: options.snapshot } : undefined),
  });
}

const byName = (readings: SignalReading[]) =>
  Object.fromEntries(readings.map((r) => [r.name, { state: r.state, detail: r.detail }]));

describe('degradeSignalSource', () => {
  it('a run nothing has reached yet: projector health MISSING, lag 0, no registry snapshot; store and outbox OK', async () => {
    expect(byName(await sourceOver({}).read(NOW))).toEqual({
      ieg_health: { state: 'MISSING', detail: 'NO_CHECKPOINT' },
      ofp_health: { state: 'MISSING', detail: 'NO_CHECKPOINT' },
      eb_consumer_lag: { state: 'OK', detail: 'lag 0' },
      registry_health: { state: 'MISSING', detail: 'NO_REGISTRY_SNAPSHOT' },
      posture_store_health: { state: 'OK', detail: undefined },
      control_publish_health: { state: 'OK', detail: undefined },
    });
  });

  it('healthy projectors are OK; an identity graph apply failure or many payload mismatches make them ERROR', async () => {
    const world: World = {
      iegCheckpoints: [checkpoint('fp.bus.traffic.fraud.v1', '2026-03-08T00:00:00.000000Z')],
      ofpCheckpoints: [checkpoint('fp.bus.traffic.fraud.v1', '2026-03-08T00:00:00.000000Z')],
    };
    const healthy = byName(await sourceOver(world, { snapshot: 'bundle-1' }).read(NOW));
    expect([healthy.ieg_health, healthy.ofp_health, healthy.registry_health]).toEqual([
      { state: 'OK', detail: 'health_state=GREEN' },
      { state: 'OK', detail: 'health_state=GREEN' },
      { state: 'OK', detail: 'snapshot_id=bundle-1' },
    ]);
    const failing = byName(
      await sourceOver({ ...world, iegFailures: 1, ofpMetrics: { payload_hash_mismatch: 10 } }).read(NOW),
    );
    expect([failing.ieg_health, failing.ofp_health]).toEqual([
      { state: 'ERROR', detail: 'health_state=AMBER' },
      { state: 'ERROR', detail: 'health_state=RED' },
    ]);
  });

  it('lag: the worst projector and topic behind IG’s admitted events; past the bound it is ERROR', async () => {
    const world: World = {
      admitted: [
        { topic: 'fp.bus.traffic.fraud.v1', partition: 0, events: '300', max_offset: '9' },
        { topic: 'fp.bus.traffic.fraud.v1', partition: 1, events: '200', max_offset: '9' },
        { topic: 'fp.bus.context.arrival_events.v1', partition: 0, events: '50', max_offset: '9' },
      ],
      accounted: {
        archive_writer_offsets: [
          { topic: 'fp.bus.traffic.fraud.v1', n: '500' },
          { topic: 'fp.bus.context.arrival_events.v1', n: '50' },
        ],
        ieg_dedupe: [{ topic: 'fp.bus.traffic.fraud.v1', n: '380' }],
        ofp_semantic_dedupe: [{ topic: 'fp.bus.traffic.fraud.v1', n: '500' }],
      },
    };
    // The identity graph trails most: 500 − 380 on traffic (its arrival events count 50 − 0 behind too, less).
    expect(byName(await sourceOver(world, { maxLag: 120 }).read(NOW)).eb_consumer_lag).toEqual({
      state: 'OK',
      detail: 'lag 120 at identity-graph:fp.bus.traffic.fraud.v1',
    });
    expect(byName(await sourceOver(world, { maxLag: 119 }).read(NOW)).eb_consumer_lag?.state).toBe('ERROR');
  });

  it('posture changes unpublished past the max age: control_publish_health ERROR', async () => {
    expect(byName(await sourceOver({ lateOutbox: 2 }).read(NOW)).control_publish_health).toEqual({
      state: 'ERROR',
      detail: '2 posture change(s) unpublished',
    });
  });

  it('a read that fails is that signal ERROR with the reason; the others are read as usual', async () => {
    const store: PostureStore = {
      current: async () => {
        throw new Error('connection refused');
      },
      commit: async () => undefined,
    };
    const readings = byName(await sourceOver({ fail: 'FROM ig_admissions' }, { store }).read(NOW));
    expect(readings.eb_consumer_lag).toEqual({
      state: 'ERROR',
      detail: 'READ_FAILED:scripted failure on FROM ig_admissions',
    });
    expect(readings.posture_store_health).toEqual({
      state: 'ERROR',
      detail: 'READ_FAILED:connection refused',
    });
    expect(readings.ieg_health?.state).toBe('MISSING');
  });
});
