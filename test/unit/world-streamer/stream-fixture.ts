import { createHash } from 'node:crypto';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import type { StreamPlan, StreamRunInput } from '../../../lib/world-streamer/stream-contracts.ts';
import { type MemoryObjectStore, memoryObjectStore } from '../oracle-store/memory-object-store.ts';

/** Hand-built values for the World Streamer tests; digests are computed here with node:crypto, not the code under test. */

export const sha = (text: string) => createHash('sha256').update(text).digest('hex');
export const MF = sha('wsp test manifest_fingerprint');
export const PH = sha('wsp test parameter_hash');
export const ENGINE_RUN_ID = sha('wsp engine run').slice(0, 32);
export const SCENARIO_RUN_ID = 'e4f2285913cc771d0d8dd1ad475f7a01';
export const PLATFORM_RUN_ID = 'platform_20260101T000000Z';
export const MESSAGE_ID = sha('ready message');
export const ROOT = 's3://oracle-store/engine-runs/wsp-test';
export const TRAFFIC = 's3_event_stream_with_fraud_6B';
export const PARITY_OUTPUTS = [
  'arrival_events_5B',
  's1_arrival_entities_6B',
  's3_flow_anchor_with_fraud_6B',
  's3_event_stream_with_fraud_6B',
];
export const TRAFFIC_PK = ['seed', 'manifest_fingerprint', 'scenario_id', 'flow_id', 'event_seq'];

export const runInput = (overrides: Partial<StreamRunInput> = {}): StreamRunInput => ({
  message_id: MESSAGE_ID,
  run_id: SCENARIO_RUN_ID,
  platform_run_id: PLATFORM_RUN_ID,
  scenario_run_id: SCENARIO_RUN_ID,
  scenario_id: 'baseline_v1',
  engine_run_root: ROOT,
  session_id: MESSAGE_ID,
  ...overrides,
});

/** A plan with one traffic output, as prepareStream would build it for a world without a pack manifest. */
export const trafficPlan = (overrides: Partial<StreamPlan> = {}): StreamPlan => ({
  message_id: MESSAGE_ID,
  run_id: SCENARIO_RUN_ID,
  session_id: MESSAGE_ID,
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
  outputs: [{ output_id: TRAFFIC, role: 'traffic', primary_key: TRAFFIC_PK }],
  traffic_output_ids: [TRAFFIC],
  context_output_ids: [],
  output_concurrency: 1,
  ...overrides,
});

/** A traffic row of the 6B event stream at `ts`. */
export const trafficRow = (flowId: bigint | number, eventSeq: number, ts: string) => ({
  seed: 42,
  manifest_fingerprint: MF,
  parameter_hash: PH,
  scenario_id: 'baseline_v1',
  flow_id: flowId,
  event_seq: eventSeq,
  event_type: 'AUTH_REQUEST',
  ts_utc: ts,
  amount: 12.5,
  fraud_flag: false,
  campaign_id: null,
});

const FLAG_5B = `data/layer2/5B/validation/manifest_fingerprint=${MF}/_passed.flag`;
const FLAG_6B = `data/layer3/6B/validation/manifest_fingerprint=${MF}/_passed.flag`;
export const FLAGS = { '5B': FLAG_5B, '6B': FLAG_6B };

export const viewKey = (outputId: string, file: string) => `stream_view/ts_utc/output_id=${outputId}/${file}`;

/** The stream_view_id recipe of §2.3, written out. */
export const expectedViewId = (root: string, outputId: string, scenarioId = 'baseline_v1') =>
  sha(
    canonicalJson({
      engine_run_root: root,
      scenario_id: scenarioId,
      output_id: outputId,
      sort_keys: ['ts_utc', 'filename', 'file_row_number'],
      partition_granularity: 'flat',
    }),
  );

/** An engine run root with run_receipt.json, the 5B/6B flags and a valid stream view of every parity output. */
export async function engineWorld(root = ROOT): Promise<MemoryObjectStore> {
  const store = memoryObjectStore(root);
  await store.put(
    'run_receipt.json',
    `{"run_id":"${ENGINE_RUN_ID}","manifest_fingerprint":"${MF}","parameter_hash":"${PH}","seed":42}`,
  );
  await store.put(FLAG_5B, '{}');
  await store.put(FLAG_6B, 'sha256_hex = 00\n');
  for (const outputId of PARITY_OUTPUTS) {
    await store.put(
      viewKey(outputId, '_stream_view_manifest.json'),
      canonicalJson({ stream_view_id: expectedViewId(root, outputId), output_id: outputId }),
    );
    await store.put(viewKey(outputId, '_stream_sort_receipt.json'), '{"status":"OK"}');
    await store.put(viewKey(outputId, 'part-000000.parquet'), 'PAR1');
  }
  return store;
}
