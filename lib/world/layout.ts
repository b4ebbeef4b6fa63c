/**
 * Where the engine puts things: the catalogue entries (engine_outputs.catalogue.yaml) of the outputs
 * this generator writes, copied verbatim so lib code needs no YAML parser at run time. A unit test
 * compares every field with the interface pack, so a drift fails the build.
 */

export const WORLD_OUTPUT_IDS = [
  'arrival_events_5B',
  's1_arrival_entities_6B',
  's2_flow_anchor_baseline_6B',
  's3_flow_anchor_with_fraud_6B',
  's2_event_stream_baseline_6B',
  's3_event_stream_with_fraud_6B',
  's4_event_labels_6B',
  's4_flow_truth_labels_6B',
  's4_case_timeline_6B',
] as const;
export type WorldOutputId = (typeof WORLD_OUTPUT_IDS)[number];

export type PathToken = 'seed' | 'parameter_hash' | 'manifest_fingerprint' | 'scenario_id';

export interface CatalogueEntry {
  readonly output_id: WorldOutputId;
  readonly owner_segment: '5B' | '6B';
  readonly path_template: string;
  readonly partitions: readonly PathToken[];
  readonly schema_ref: string;
  readonly primary_key: readonly string[];
  readonly read_requires_gates: readonly string[];
}

const SIX_B_PARTITIONS: readonly PathToken[] = [
  'seed',
  'manifest_fingerprint',
  'parameter_hash',
  'scenario_id',
];
const SIX_B_KEY = ['seed', 'manifest_fingerprint', 'scenario_id'];
const GATE_6B = ['gate.layer3.6B.validation'];

function sixB(output_id: WorldOutputId, schema_ref: string, keys: readonly string[]): CatalogueEntry {
  return {
    output_id,
    owner_segment: '6B',
    path_template: `data/layer3/6B/${output_id}/seed={seed}/parameter_hash={parameter_hash}/manifest_fingerprint={manifest_fingerprint}/scenario_id={scenario_id}/part-*.parquet`,
    partitions: SIX_B_PARTITIONS,
    schema_ref,
    primary_key: [...SIX_B_KEY, ...keys],
    read_requires_gates: GATE_6B,
  };
}

export const WORLD_CATALOGUE: Readonly<Record<WorldOutputId, CatalogueEntry>> = {
  arrival_events_5B: {
    output_id: 'arrival_events_5B',
    owner_segment: '5B',
    // The catalogue's YAML value carries a trailing newline; readers trim it (so do we).
    path_template:
      'data/layer2/5B/arrival_events/seed={seed}/manifest_fingerprint={manifest_fingerprint}/scenario_id={scenario_id}/part-*.parquet',
    partitions: ['seed', 'manifest_fingerprint', 'scenario_id'],
    schema_ref: 'schemas.5B.yaml#/egress/s4_arrival_events_5B',
    primary_key: [...SIX_B_KEY, 'merchant_id', 'arrival_seq'],
    read_requires_gates: ['gate.layer2.5B.validation'],
  },
  s1_arrival_entities_6B: sixB('s1_arrival_entities_6B', 'schemas.6B.yaml#/s1/arrival_entities_6B', [
    'merchant_id',
    'arrival_seq',
  ]),
  s2_flow_anchor_baseline_6B: sixB(
    's2_flow_anchor_baseline_6B',
    'schemas.6B.yaml#/s2/flow_anchor_baseline_6B',
    ['flow_id'],
  ),
  s3_flow_anchor_with_fraud_6B: sixB(
    's3_flow_anchor_with_fraud_6B',
    'schemas.6B.yaml#/s3/flow_anchor_with_fraud_6B',
    ['flow_id'],
  ),
  s2_event_stream_baseline_6B: sixB(
    's2_event_stream_baseline_6B',
    'schemas.6B.yaml#/s2/event_stream_baseline_6B',
    ['flow_id', 'event_seq'],
  ),
  s3_event_stream_with_fraud_6B: sixB(
    's3_event_stream_with_fraud_6B',
    'schemas.6B.yaml#/s3/event_stream_with_fraud_6B',
    ['flow_id', 'event_seq'],
  ),
  s4_event_labels_6B: sixB('s4_event_labels_6B', 'schemas.6B.yaml#/s4/event_labels_6B', [
    'flow_id',
    'event_seq',
  ]),
  s4_flow_truth_labels_6B: sixB('s4_flow_truth_labels_6B', 'schemas.6B.yaml#/s4/flow_truth_labels_6B', [
    'flow_id',
  ]),
  s4_case_timeline_6B: sixB('s4_case_timeline_6B', 'schemas.6B.yaml#/s4/case_timeline_6B', [
    'case_id',
    'case_event_seq',
  ]),
};

export type PathTokens = Readonly<Record<PathToken, string>>;

/** Replaces every `{token}` of a catalogue or gate-map template; an unknown token is an error. */
export function renderTemplate(template: string, tokens: Partial<PathTokens>): string {
  return template.trim().replace(/\{([a-z_]+)\}/g, (whole, name: string) => {
    const value = (tokens as Record<string, string | undefined>)[name];
    if (value === undefined) throw new Error(`TEMPLATE_TOKEN_MISSING: ${whole} in ${template.trim()}`);
    return value;
  });
}

/** The directory (relative to the engine run root) holding an output's part files. */
export function outputDirectory(outputId: WorldOutputId, tokens: PathTokens): string {
  const rendered = renderTemplate(WORLD_CATALOGUE[outputId].path_template, tokens);
  const slash = rendered.lastIndexOf('/');
  return rendered.slice(0, slash);
}

/** `part-00000.parquet` … : the engine's five-digit part names. */
export function partFileName(index: number): string {
  return `part-${String(index).padStart(5, '0')}.parquet`;
}
