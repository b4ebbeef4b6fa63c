import { z } from 'zod';
import gateMapJson from './reference/engine-gates.map.json' with { type: 'json' };
import catalogueJson from './reference/engine-outputs.catalogue.json' with { type: 'json' };

/**
 * The engine interface pack, as checked in by tools/sync-reference.ts (catalogue + gate map extracts),
 * parsed once at module load so a bad extract fails at cold start.
 */
export { CATALOGUE_DIGEST, GATE_MAP_DIGEST } from './reference/digests.ts';

export const HASH_LAW_KINDS = [
  'sha256_index_json_ascii_lex_raw_bytes',
  'sha256_member_digest_concat',
  'sha256_bundle_digest',
] as const;
export type HashLawKind = (typeof HASH_LAW_KINDS)[number];

export const VerificationMethod = z.object({
  kind: z.enum(HASH_LAW_KINDS),
  digest_field: z.string().min(1),
  /** `ascii_lex` sorts; anything else (`index_order`, `members_array_order`) keeps the given order. */
  ordering: z.string().default('ascii_lex'),
  exclude_filenames: z.array(z.string()).default([]),
  /** Where index paths resolve: the bundle root (default) or the engine run root (2B). */
  path_base: z.enum(['bundle_root', 'run_root']).default('bundle_root'),
});
export type VerificationMethod = z.infer<typeof VerificationMethod>;

export const GateDefinition = z.object({
  gate_id: z.string().min(1),
  segment: z.string().optional(),
  scope: z.string().optional(),
  passed_flag_path_template: z.string().min(1),
  bundle_root_template: z.string().min(1),
  index_path_template: z.string().optional(),
  verification_method: VerificationMethod,
  authorizes_outputs: z.array(z.string()).default([]),
  upstream_gate_dependencies: z.array(z.string()).default([]),
});
export type GateDefinition = z.infer<typeof GateDefinition>;

export const CatalogueOutput = z.object({
  output_id: z.string().min(1),
  class: z.string().optional(),
  scope: z.string().optional(),
  owner_segment: z.string().optional(),
  /** Verbatim from the YAML, which may end in a newline (a folded scalar): use `outputPathTemplate`. */
  path_template: z.string().optional(),
  partitions: z.array(z.string()).default([]),
  primary_key: z.array(z.string()).default([]),
  read_requires_gates: z.array(z.string()).default([]),
});
export type CatalogueOutput = z.infer<typeof CatalogueOutput>;

const Source = z.object({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

export interface GateMap {
  readonly gates: readonly GateDefinition[];
  readonly byId: ReadonlyMap<string, GateDefinition>;
}

export interface Catalogue {
  readonly outputs: readonly CatalogueOutput[];
  readonly byId: ReadonlyMap<string, CatalogueOutput>;
}

export function gateMapOf(gates: readonly GateDefinition[]): GateMap {
  return { gates, byId: new Map(gates.map((g) => [g.gate_id, g])) };
}

export function catalogueOf(outputs: readonly CatalogueOutput[]): Catalogue {
  return { outputs, byId: new Map(outputs.map((o) => [o.output_id, o])) };
}

export const ENGINE_GATE_MAP: GateMap = gateMapOf(
  z.object({ source: Source, gates: z.array(GateDefinition) }).parse(gateMapJson).gates,
);

export const ENGINE_CATALOGUE: Catalogue = catalogueOf(
  z.object({ source: Source, outputs: z.array(CatalogueOutput) }).parse(catalogueJson).outputs,
);

/** The digests the extracts were made from (equal to CATALOGUE_DIGEST / GATE_MAP_DIGEST when in sync). */
export const EXTRACT_SOURCES = {
  catalogue: Source.parse(catalogueJson.source),
  gateMap: Source.parse(gateMapJson.source),
};

/** The catalogue path template, trimmed of the surrounding whitespace a YAML folded scalar leaves. */
export function outputPathTemplate(output: CatalogueOutput): string | undefined {
  const template = output.path_template?.trim();
  return template ? template : undefined;
}

/** wsp/traffic_outputs_v0.yaml: what the World Streamer streams as traffic in parity. */
export const TRAFFIC_OUTPUT_IDS = ['s3_event_stream_with_fraud_6B'] as const;
/** wsp/context_fraud_outputs_v0.yaml: the context streamed with fraud traffic. */
export const FRAUD_CONTEXT_OUTPUT_IDS = [
  'arrival_events_5B',
  's1_arrival_entities_6B',
  's3_flow_anchor_with_fraud_6B',
] as const;
/** sr/policy_v0.yaml `traffic_output_ids`: what SR plans and verifies by default. */
export const SR_TRAFFIC_OUTPUT_IDS = [
  's2_event_stream_baseline_6B',
  's3_event_stream_with_fraud_6B',
] as const;
/** The checker's default: everything the parity stream reads, context then traffic (§4, "order"). */
export const DEFAULT_CHECK_OUTPUT_IDS: readonly string[] = [
  ...FRAUD_CONTEXT_OUTPUT_IDS,
  ...TRAFFIC_OUTPUT_IDS,
];
