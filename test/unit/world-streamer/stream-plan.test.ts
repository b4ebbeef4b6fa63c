import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import { AllowlistUnsupported, type ProducerAllowlistSource } from '../../../lib/world-streamer/ports.ts';
import { defaultSettings } from '../../../lib/world-streamer/settings.ts';
import { parseAllowlist, prepareStream, selectOutputs } from '../../../lib/world-streamer/stream-plan.ts';
import type { MemoryObjectStore } from '../oracle-store/memory-object-store.ts';
import {
  ENGINE_RUN_ID,
  engineWorld,
  FLAGS,
  MF,
  PARITY_OUTPUTS,
  PH,
  PLATFORM_RUN_ID,
  ROOT,
  runInput,
  SCENARIO_RUN_ID,
  sha,
  TRAFFIC,
  viewKey,
} from './stream-fixture.ts';

const ALLOWLIST = '# WSP producer allowlist\n\nsvc:world_stream_producer\n';
const allowlist = (text: string | undefined | Error): ProducerAllowlistSource => ({
  read: async () => {
    if (text instanceof Error) throw text;
    return text;
  },
});

async function prepare(
  store: MemoryObjectStore,
  settings = defaultSettings(),
  source: ProducerAllowlistSource = allowlist(ALLOWLIST),
) {
  return prepareStream({ engineRuns: { open: () => store }, allowlist: source }, runInput(), settings);
}

const reasonOf = (prepared: Awaited<ReturnType<typeof prepare>>) =>
  prepared.kind === 'failed' ? prepared.result.reason : 'PLANNED';

describe('output selection (control-ingress.md §4.2 step 5)', () => {
  it('parity fraud: context then traffic', () => {
    expect(selectOutputs(defaultSettings())).toEqual({
      ok: true,
      traffic: [TRAFFIC],
      context: PARITY_OUTPUTS.slice(0, 3),
      ordered: PARITY_OUTPUTS,
    });
  });

  it('baseline-only traffic takes the baseline context; dual traffic the fraud context, de-duplicated', () => {
    const baseline = selectOutputs(defaultSettings({ trafficOutputIds: ['s2_event_stream_baseline_6B'] }));
    expect(baseline.ok && baseline.ordered).toEqual([
      'arrival_events_5B',
      's1_arrival_entities_6B',
      's2_flow_anchor_baseline_6B',
      's2_event_stream_baseline_6B',
    ]);
    const dual = selectOutputs(
      defaultSettings({
        trafficOutputIds: ['s2_event_stream_baseline_6B', TRAFFIC],
        contextOutputIds: ['arrival_events_5B', 'arrival_events_5B'],
      }),
    );
    expect(dual.ok && dual.ordered).toEqual(['arrival_events_5B', 's2_event_stream_baseline_6B', TRAFFIC]);
  });

  it('an override outside the policy, or an id unknown to the catalogue → NO_TRAFFIC_OUTPUTS', () => {
    expect(
      selectOutputs(defaultSettings({ trafficOverride: ['s2_event_stream_baseline_6B'] })),
    ).toMatchObject({
      ok: false,
      reason: 'NO_TRAFFIC_OUTPUTS',
    });
    expect(selectOutputs(defaultSettings({ trafficOutputIds: ['no_such_output'] }))).toMatchObject({
      ok: false,
      reason: 'NO_TRAFFIC_OUTPUTS',
    });
  });

  it('allowlist lines: comments and blanks ignored', () => {
    expect([...parseAllowlist(' # x\n\n a \r\nb\n#c')]).toEqual(['a', 'b']);
  });
});

describe('stream checks and plan (control-ingress.md §4.2, §4.3)', () => {
  it('a sound world gives the plan: pins from run_receipt, pack key sha256(root) without a manifest, scoped checkpoint', async () => {
    const prepared = await prepare(await engineWorld());
    if (prepared.kind !== 'plan') throw new Error(`expected a plan, got ${reasonOf(prepared)}`);
    expect(prepared.plan).toEqual({
      message_id: runInput().message_id,
      run_id: SCENARIO_RUN_ID,
      session_id: runInput().session_id,
      engine_run_root: ROOT,
      platform_run_id: PLATFORM_RUN_ID,
      scenario_run_id: SCENARIO_RUN_ID,
      scenario_id: 'baseline_v1',
      engine_run_id: ENGINE_RUN_ID,
      manifest_fingerprint: MF,
      parameter_hash: PH,
      seed: '42',
      pack_key: sha(ROOT),
      checkpoint_scope_key: sha(`${sha(ROOT)}|${PLATFORM_RUN_ID}|${SCENARIO_RUN_ID}|1|0|`),
      outputs: [
        {
          output_id: 'arrival_events_5B',
          role: 'context',
          primary_key: ['seed', 'manifest_fingerprint', 'scenario_id', 'merchant_id', 'arrival_seq'],
        },
        {
          output_id: 's1_arrival_entities_6B',
          role: 'context',
          primary_key: ['seed', 'manifest_fingerprint', 'scenario_id', 'merchant_id', 'arrival_seq'],
        },
        {
          output_id: 's3_flow_anchor_with_fraud_6B',
          role: 'context',
          primary_key: ['seed', 'manifest_fingerprint', 'scenario_id', 'flow_id'],
        },
        {
          output_id: TRAFFIC,
          role: 'traffic',
          primary_key: ['seed', 'manifest_fingerprint', 'scenario_id', 'flow_id', 'event_seq'],
        },
      ],
      traffic_output_ids: [TRAFFIC],
      context_output_ids: PARITY_OUTPUTS.slice(0, 3),
      output_concurrency: 4,
      chunks_per_segment: 500,
      segment_name_prefix: runInput().session_id,
      align_window_seconds: 600,
    });
  });

  it('a sealed pack: pack key = oracle_pack_id, span = engine_release; a world-key mismatch fails', async () => {
    const store = await engineWorld();
    const manifest = (scenario: string) =>
      canonicalJson({
        version: 'v0',
        oracle_pack_id: sha('pack'),
        world_key: { manifest_fingerprint: MF, parameter_hash: PH, scenario_id: scenario, seed: 42 },
        engine_release: 'engine-1.2.3',
        catalogue_digest: sha('c'),
        gate_map_digest: sha('g'),
        created_at_utc: '2026-01-01T00:00:00+00:00',
      });
    await store.put('_oracle_pack_manifest.json', manifest('baseline_v1'));
    const prepared = await prepare(store, defaultSettings({ outputConcurrency: 2, chunksPerSegment: 7 }));
    expect(prepared.kind === 'plan' && prepared.plan).toMatchObject({
      pack_key: sha('pack'),
      engine_release: 'engine-1.2.3',
      output_concurrency: 2,
      chunks_per_segment: 7,
    });
    await store.put('_oracle_pack_manifest.json', manifest('other_scenario'));
    expect(reasonOf(await prepare(store))).toBe('WORLD_KEY_MISMATCH');
    await store.put('_oracle_pack_manifest.json', '{"version":"v0"}');
    expect(reasonOf(await prepare(store))).toBe('PACK_MANIFEST_INVALID');
  });

  it('strict profiles need a pack manifest and a seal', async () => {
    const store = await engineWorld();
    expect(reasonOf(await prepare(store, defaultSettings({ strictSeal: true })))).toBe(
      'PACK_MANIFEST_MISSING',
    );
  });

  it('spec §9 check 11: a missing gate flag → GATE_PASS_MISSING (before any stream view is touched)', async () => {
    const store = await engineWorld();
    await store.delete(FLAGS['6B']);
    await store.delete(viewKey(TRAFFIC, '_stream_view_manifest.json'));
    const prepared = await prepare(store);
    expect(prepared.kind === 'failed' && prepared.result).toMatchObject({
      status: 'FAILED',
      reason: 'GATE_PASS_MISSING',
      emitted: 0,
    });
    expect(reasonOf(await prepare(store, defaultSettings({ requireGatePass: false })))).toBe(
      'STREAM_VIEW_MISSING',
    );
  });

  it.each([
    ['PRODUCER_NOT_ALLOWED', allowlist('svc:someone_else\n')],
    ['PRODUCER_ALLOWLIST_MISSING', allowlist(undefined)],
    ['PRODUCER_ALLOWLIST_EMPTY', allowlist('# nothing\n')],
    ['PRODUCER_ALLOWLIST_UNREADABLE', allowlist(new Error('EACCES'))],
    ['PRODUCER_ALLOWLIST_UNSUPPORTED', allowlist(new AllowlistUnsupported('s3://x'))],
  ])('spec §9 check 11 family: %s', async (reason, source) => {
    expect(reasonOf(await prepare(await engineWorld(), defaultSettings(), source))).toBe(reason);
  });

  it('PRODUCER_ID_MISSING when no producer id is configured', async () => {
    expect(reasonOf(await prepare(await engineWorld(), defaultSettings({ producerId: '' })))).toBe(
      'PRODUCER_ID_MISSING',
    );
  });

  it('run receipt and world key', async () => {
    const store = await engineWorld();
    await store.put('run_receipt.json', '{not json');
    expect(reasonOf(await prepare(store))).toBe('RUN_RECEIPT_UNREADABLE');
    await store.delete('run_receipt.json');
    expect(reasonOf(await prepare(store))).toBe('RUN_RECEIPT_UNREADABLE');
    await store.put(
      'run_receipt.json',
      `{"run_id":"${ENGINE_RUN_ID}","manifest_fingerprint":"${MF}","seed":42}`,
    );
    expect(reasonOf(await prepare(store))).toBe('WORLD_KEY_MISSING');
  });

  it.each([
    [
      'STREAM_VIEW_MISSING',
      async (s: MemoryObjectStore) => s.delete(viewKey(TRAFFIC, '_stream_sort_receipt.json')),
    ],
    [
      'STREAM_VIEW_RECEIPT_BAD',
      async (s: MemoryObjectStore) =>
        s.put(viewKey(TRAFFIC, '_stream_sort_receipt.json'), '{"status":"FAILED"}'),
    ],
    [
      'STREAM_VIEW_ID_MISMATCH',
      async (s: MemoryObjectStore) =>
        s.put(viewKey(TRAFFIC, '_stream_view_manifest.json'), `{"stream_view_id":"${sha('x')}"}`),
    ],
    [
      'STREAM_VIEW_OUTPUT_MISMATCH',
      async (s: MemoryObjectStore) =>
        s.put(viewKey(TRAFFIC, '_stream_view_manifest.json'), '{"output_id":"arrival_events_5B"}'),
    ],
    ['STREAM_VIEW_EMPTY', async (s: MemoryObjectStore) => s.delete(viewKey(TRAFFIC, 'part-000000.parquet'))],
  ])('§4.3 %s', async (reason, spoil) => {
    const store = await engineWorld();
    await spoil(store);
    const prepared = await prepare(store);
    expect(prepared.kind === 'failed' && prepared.result).toMatchObject({
      reason,
      detail: expect.stringContaining(TRAFFIC),
    });
  });

  it('a manifest without stream_view_id or output_id passes; a view sorted under another root does not', async () => {
    const store = await engineWorld();
    await store.put(viewKey(TRAFFIC, '_stream_view_manifest.json'), '{}');
    expect(reasonOf(await prepare(store))).toBe('PLANNED');
    const moved = await engineWorld('s3://oracle-store/elsewhere');
    for (const key of moved.keys().filter((k) => k.endsWith('_stream_view_manifest.json'))) {
      const outputId = /output_id=([^/]+)\//.exec(key)?.[1] ?? '';
      await moved.put(key, canonicalJson({ stream_view_id: sha(outputId) }));
    }
    expect(reasonOf(await prepare(moved))).toBe('STREAM_VIEW_ID_MISMATCH');
  });
});
