import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileObjectStore } from '../../../lib/adapters/file-object-store.ts';
import { type CheckReport, checkPack } from '../../../lib/oracle-store/check.ts';
import { catalogueOf } from '../../../lib/oracle-store/interface-pack.ts';
import type { ObjectStore } from '../../../lib/oracle-store/object-store.ts';
import { sealPack } from '../../../lib/oracle-store/seal.ts';
import { type MemoryObjectStore, memoryObjectStore } from './memory-object-store.ts';
import {
  buildWorld,
  bundleRoot,
  flagKey,
  gateId,
  MF,
  outputPartKey,
  PH,
  RUN_ID,
  SCENARIO,
  SEGMENTS,
  type WorldOptions,
} from './world-builder.ts';

const TEN_GATES = SEGMENTS.map(gateId).sort();
const NOW = new Date('2026-01-02T00:00:00Z');

async function sealedWorld(options: WorldOptions = {}, store: ObjectStore = memoryObjectStore()) {
  await buildWorld(store, options);
  await sealPack(store, { scenarioId: SCENARIO, engineRelease: 'engine-local-v0', now: NOW });
  return store;
}

async function world(options: WorldOptions = {}): Promise<MemoryObjectStore> {
  const store = memoryObjectStore();
  await sealedWorld(options, store);
  return store;
}

const codes = (report: CheckReport) => report.issues.map((i) => `${i.severity}:${i.code}`);

describe('checkPack (§2.2 + hash-law verification)', () => {
  it('a complete sealed world is OK: scenario found by scan, ten gates verified PASS', async () => {
    const report = await checkPack(await world(), { strictSeal: true });
    expect(report).toMatchObject({ status: 'OK', reason_codes: [], issues: [], errors: [], warnings: [] });
    expect(report.details.world_key).toEqual({
      manifest_fingerprint: MF,
      parameter_hash: PH,
      seed: '42',
      scenario_id: SCENARIO,
    });
    expect(report.details.output_ids).toEqual([
      'arrival_events_5B',
      's1_arrival_entities_6B',
      's3_flow_anchor_with_fraud_6B',
      's3_event_stream_with_fraud_6B',
    ]);
    expect(report.details.required_gates).toEqual(TEN_GATES);
    expect(report.details.gate_results.map((g) => g.status)).toEqual(Array(10).fill('PASS'));
    expect(report.details.pack_manifests).toEqual([
      {
        path: '_oracle_pack_manifest.json',
        valid: true,
        oracle_pack_id: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ]);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('a missing gate flag → GATE_RECEIPT_MISSING with detail [{gate_id, path}], FAIL', async () => {
    const report = await checkPack(await world({ withoutFlags: ['3B', '1A'] }), { strictSeal: false });
    expect(report.status).toBe('FAIL');
    expect(codes(report)).toEqual(['ERROR:GATE_RECEIPT_MISSING']);
    expect(JSON.parse(report.issues[0]?.detail ?? '')).toEqual([
      { gate_id: gateId('1A'), path: flagKey('1A') },
      { gate_id: gateId('3B'), path: flagKey('3B') },
    ]);
    expect(report.details.gates_missing.map((g) => g.gate_id)).toEqual([gateId('1A'), gateId('3B')]);
    expect(
      report.errors[0]?.startsWith('GATE_RECEIPT_MISSING:[{"gate_id": "gate.layer1.1A.validation"'),
    ).toBe(true);
  });

  it('a tampered gate bundle → GATE_DIGEST_MISMATCH naming the gate', async () => {
    const store = await world();
    await store.put(`${bundleRoot('5B')}validation_report_5B.json`, '{"report":"5B","tampered":true}');
    const report = await checkPack(store, { strictSeal: true });
    expect(report.status).toBe('FAIL');
    expect(codes(report)).toEqual(['ERROR:GATE_DIGEST_MISMATCH']);
    const detail = JSON.parse(report.issues[0]?.detail ?? '');
    expect(detail.gate_id).toBe(gateId('5B'));
    expect(detail.expected).not.toBe(detail.actual);
    expect(report.details.gate_results.find((g) => g.gate_id === gateId('5B'))?.status).toBe('FAIL');
  });

  it('a tampered flag digest → GATE_DIGEST_MISMATCH naming the gate', async () => {
    const store = await world();
    await store.put(flagKey('6B'), `sha256_hex = ${'0'.repeat(64)}\n`);
    const report = await checkPack(store, { strictSeal: true });
    expect(report.reason_codes).toEqual(['GATE_DIGEST_MISMATCH']);
    expect(report.errors[0]).toContain(gateId('6B'));
  });

  it('a bundle file gone → GATE_BUNDLE_INCOMPLETE naming the gate and the key', async () => {
    const store = await world();
    await store.delete(`${bundleRoot('6A')}issues_6A.parquet`);
    const report = await checkPack(store, { strictSeal: true });
    expect(codes(report)).toEqual(['ERROR:GATE_BUNDLE_INCOMPLETE']);
    expect(JSON.parse(report.issues[0]?.detail ?? '')).toEqual({
      gate_id: gateId('6A'),
      missing: [`${bundleRoot('6A')}issues_6A.parquet`],
    });
  });

  it('an unparseable flag → GATE_FLAG_UNPARSEABLE', async () => {
    const store = await world();
    await store.put(flagKey('2A'), 'ok\n');
    const report = await checkPack(store, { strictSeal: true });
    expect(codes(report)).toEqual(['ERROR:GATE_FLAG_UNPARSEABLE']);
    expect(report.errors[0]).toContain(gateId('2A'));
  });

  it('a missing output → OUTPUT_MISSING, with its path in details', async () => {
    const store = await world();
    await store.delete(outputPartKey('s3_flow_anchor_with_fraud_6B'));
    const report = await checkPack(store, { strictSeal: true });
    expect(codes(report)).toEqual(['ERROR:OUTPUT_MISSING']);
    expect(report.errors).toEqual(['OUTPUT_MISSING:s3_flow_anchor_with_fraud_6B']);
    expect(report.details.outputs_missing).toEqual([
      {
        output_id: 's3_flow_anchor_with_fraud_6B',
        path: `data/layer3/6B/s3_flow_anchor_with_fraud_6B/seed=42/parameter_hash=${PH}/manifest_fingerprint=${MF}/scenario_id=${SCENARIO}/part-*.parquet`,
      },
    ]);
  });

  it('unsealed: PACK_NOT_SEALED and PACK_MANIFEST_MISSING are WARN; strict makes the seal an ERROR', async () => {
    const store = memoryObjectStore();
    await buildWorld(store);
    const lenient = await checkPack(store, { strictSeal: false });
    expect(lenient.status).toBe('WARN');
    expect(codes(lenient)).toEqual(['WARN:PACK_MANIFEST_MISSING', 'WARN:PACK_NOT_SEALED']);
    expect(lenient.errors).toEqual([]);
    const strict = await checkPack(store, { strictSeal: true });
    expect(strict.status).toBe('FAIL');
    expect(codes(strict)).toEqual(['WARN:PACK_MANIFEST_MISSING', 'ERROR:PACK_NOT_SEALED']);
  });

  it('sealed but the manifest gone → PACK_MANIFEST_MISSING WARN only; a legacy _SEALED.flag counts as a seal', async () => {
    const store = await world();
    await store.delete('_oracle_pack_manifest.json');
    const report = await checkPack(store, { strictSeal: true });
    expect(report.status).toBe('WARN');
    expect(codes(report)).toEqual(['WARN:PACK_MANIFEST_MISSING']);

    await store.delete('_SEALED.json');
    await store.put('_SEALED.flag', 'SEALED\n');
    expect(codes(await checkPack(store, { strictSeal: true }))).toEqual(['WARN:PACK_MANIFEST_MISSING']);
  });

  it('a manifest failing its schema → PACK_MANIFEST_INVALID ERROR', async () => {
    const store = await world();
    await store.put('_oracle_pack_manifest.json', '{"version":"v0","oracle_pack_id":"nope"}\n');
    const report = await checkPack(store, { strictSeal: true });
    expect(report.status).toBe('FAIL');
    expect(codes(report)).toEqual(['ERROR:PACK_MANIFEST_INVALID']);
    expect(report.details.pack_manifests).toEqual([
      { path: '_oracle_pack_manifest.json', valid: false, oracle_pack_id: null },
    ]);
    await store.put('_oracle_pack_manifest.json', 'not json');
    expect(codes(await checkPack(store, { strictSeal: true }))).toEqual(['ERROR:PACK_MANIFEST_INVALID']);
  });

  it('two scenario_id=* directories → SCENARIO_ID_AMBIGUOUS; naming one resolves it', async () => {
    const store = await world({ scenarios: [SCENARIO, 'stress_v2'] });
    const scanned = await checkPack(store, { strictSeal: true });
    expect(scanned.status).toBe('FAIL');
    expect(codes(scanned)).toEqual(['ERROR:SCENARIO_ID_AMBIGUOUS']);
    expect(scanned.issues[0]?.detail).toBe('["baseline_v1", "stress_v2"]');
    expect(scanned.details.world_key?.scenario_id).toBeNull();
    const named = await checkPack(store, { strictSeal: true, scenarioId: 'stress_v2' });
    expect(named.status).toBe('OK');
    expect(named.details.world_key?.scenario_id).toBe('stress_v2');
  });

  it('no scenario_id=* directory → SCENARIO_ID_MISSING (and no output noise)', async () => {
    const report = await checkPack(await world({ outputs: [] }), { strictSeal: true });
    expect(codes(report)).toEqual(['ERROR:SCENARIO_ID_MISSING']);
    const named = await checkPack(await world({ outputs: [] }), { strictSeal: true, scenarioId: SCENARIO });
    expect(named.reason_codes).toEqual(['OUTPUT_MISSING']);
    expect(named.errors).toHaveLength(4);
  });

  it('run_receipt.json absent or not JSON → RUN_RECEIPT_UNREADABLE; lacking fields → RUN_RECEIPT_INVALID', async () => {
    const absent = await checkPack(memoryObjectStore(), { strictSeal: false });
    expect(absent).toMatchObject({ status: 'FAIL', reason_codes: ['RUN_RECEIPT_UNREADABLE'] });

    const garbled = memoryObjectStore();
    await buildWorld(garbled, { runReceipt: '{"run_id":' });
    expect((await checkPack(garbled, { strictSeal: false })).reason_codes).toEqual([
      'RUN_RECEIPT_UNREADABLE',
    ]);

    const invalid = memoryObjectStore();
    await buildWorld(invalid, {
      runReceipt: JSON.stringify({ manifest_fingerprint: MF, parameter_hash: PH, seed: -1 }),
    });
    const report = await checkPack(invalid, { strictSeal: false });
    expect(report.reason_codes).toEqual(['RUN_RECEIPT_INVALID']);
    expect(report.issues[0]?.detail).toBe('run_id,seed');
  });

  it('output codes: OUTPUT_UNKNOWN, TEMPLATE_TOKEN_MISSING, OUTPUT_TEMPLATE_MISSING', async () => {
    const store = await world();
    const report = await checkPack(store, {
      strictSeal: true,
      outputIds: ['no_such_output', 'segment_state_runs_1A', 's3_event_stream_with_fraud_6B'],
    });
    expect(codes(report)).toEqual(['ERROR:OUTPUT_UNKNOWN', 'ERROR:TEMPLATE_TOKEN_MISSING']);
    expect(report.errors).toEqual([
      'OUTPUT_UNKNOWN:no_such_output',
      'TEMPLATE_TOKEN_MISSING:segment_state_runs_1A:utc_day',
    ]);

    const bare = catalogueOf([
      { output_id: 'bare', partitions: [], primary_key: [], read_requires_gates: [] },
    ]);
    const templateless = await checkPack(store, { strictSeal: true, outputIds: ['bare'], catalogue: bare });
    expect(templateless.errors).toEqual(['OUTPUT_TEMPLATE_MISSING:bare']);
  });

  it('outputs of one segment need only that closure verified; every flag is still required', async () => {
    const report = await checkPack(await world(), { strictSeal: true, outputIds: ['s1_site_weights'] });
    expect(report.details.required_gates).toEqual([gateId('1A'), gateId('1B'), gateId('2A'), gateId('2B')]);
    expect(report.status).toBe('FAIL'); // s1_site_weights itself is not in the test world
    expect(report.reason_codes).toEqual(['OUTPUT_MISSING']);
  });

  describe('on a directory (fileObjectStore)', () => {
    let dir: string | undefined;
    afterEach(() => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });
    it('a sealed world on disk is OK; a tampered 1A bundle on disk fails naming 1A', async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oracle-check-'));
      const store = fileObjectStore(dir);
      await sealedWorld({}, store);
      expect((await checkPack(store, { strictSeal: true })).status).toBe('OK');
      fs.appendFileSync(path.join(dir, bundleRoot('1A'), 'report.json'), ' ');
      const report = await checkPack(store, { strictSeal: true });
      expect(report.reason_codes).toEqual(['GATE_DIGEST_MISMATCH']);
      expect(report.errors[0]).toContain(gateId('1A'));
      expect(report.details.engine_run_root).toBe(dir);
      expect(RUN_ID).toHaveLength(32);
    });
  });
});
