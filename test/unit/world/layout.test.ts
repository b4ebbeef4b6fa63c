import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GATE_MAP } from '../../../lib/world/gate-map.ts';
import {
  outputDirectory,
  partFileName,
  renderTemplate,
  WORLD_CATALOGUE,
  WORLD_OUTPUT_IDS,
} from '../../../lib/world/layout.ts';

// A copy of ../shared/reference/interface_pack's YAML (test/fixtures/engine-reference/README.md).
const PACK = new URL('../../fixtures/engine-reference/interface_pack', import.meta.url).pathname;
type Entry = Record<string, unknown>;
const catalogue = parse(readFileSync(`${PACK}/engine_outputs.catalogue.yaml`, 'utf8')) as {
  outputs: Entry[];
};
const gateMap = parse(readFileSync(`${PACK}/engine_gates.map.yaml`, 'utf8')) as { gates: Entry[] };

describe('the embedded interface pack', () => {
  it.each(WORLD_OUTPUT_IDS)('%s matches engine_outputs.catalogue.yaml', (outputId) => {
    const entry = catalogue.outputs.find((o) => o.output_id === outputId);
    const ours = WORLD_CATALOGUE[outputId];
    expect(entry).toBeDefined();
    expect(ours.path_template).toBe(String(entry?.path_template).trim());
    expect(ours.partitions).toEqual(entry?.partitions);
    expect(ours.primary_key).toEqual(entry?.primary_key);
    expect(ours.schema_ref).toBe(entry?.schema_ref);
    expect(ours.read_requires_gates).toEqual(entry?.read_requires_gates);
    expect(ours.owner_segment).toBe(entry?.owner_segment);
  });

  it('holds every gate of engine_gates.map.yaml verbatim', () => {
    const fields = [
      'gate_id',
      'segment',
      'scope',
      'passed_flag_path_template',
      'bundle_root_template',
      'index_path_template',
    ];
    const pick = (g: Entry) => ({
      ...Object.fromEntries(fields.map((f) => [f, g[f]])),
      verification_method: g.verification_method,
      authorizes_outputs: g.authorizes_outputs,
      upstream_gate_dependencies: g.upstream_gate_dependencies,
    });
    expect(GATE_MAP.map((g) => pick(g as unknown as Entry))).toEqual(gateMap.gates.map(pick));
  });
});

describe('templates', () => {
  const tokens = {
    seed: '7',
    parameter_hash: 'p'.repeat(64),
    manifest_fingerprint: 'm'.repeat(64),
    scenario_id: 'baseline_v1',
  };

  it('renders the 6B and 5B directories with the tokens in catalogue order', () => {
    expect(outputDirectory('s3_event_stream_with_fraud_6B', tokens)).toBe(
      `data/layer3/6B/s3_event_stream_with_fraud_6B/seed=7/parameter_hash=${tokens.parameter_hash}/manifest_fingerprint=${tokens.manifest_fingerprint}/scenario_id=baseline_v1`,
    );
    expect(outputDirectory('arrival_events_5B', tokens)).toBe(
      `data/layer2/5B/arrival_events/seed=7/manifest_fingerprint=${tokens.manifest_fingerprint}/scenario_id=baseline_v1`,
    );
    expect(partFileName(3)).toBe('part-00003.parquet');
  });

  it('refuses a template token it has no value for', () => {
    expect(() => renderTemplate('a/{run_id}/b', tokens)).toThrow(/TEMPLATE_TOKEN_MISSING/);
  });
});
