import type { VerificationMethod } from './gates.ts';

/**
 * The gates of engine_gates.map.yaml, copied verbatim (a unit test compares them with the interface
 * pack). Templates follow one pattern per segment, so they are derived here instead of repeated.
 */

export type GateSegment = '1A' | '1B' | '2A' | '2B' | '3A' | '3B' | '5A' | '5B' | '6A' | '6B';

export interface GateDefinition {
  readonly gate_id: string;
  readonly segment: GateSegment;
  readonly scope: 'fingerprint';
  readonly passed_flag_path_template: string;
  readonly bundle_root_template: string;
  readonly index_path_template: string;
  readonly verification_method: VerificationMethod;
  readonly authorizes_outputs: readonly string[];
  readonly upstream_gate_dependencies: readonly string[];
}

const LAYER: Record<GateSegment, 1 | 2 | 3> = {
  '1A': 1,
  '1B': 1,
  '2A': 1,
  '2B': 1,
  '3A': 1,
  '3B': 1,
  '5A': 2,
  '5B': 2,
  '6A': 3,
  '6B': 3,
};

export function gateIdOf(segment: GateSegment): string {
  return `gate.layer${LAYER[segment]}.${segment}.validation`;
}

interface GateShape {
  readonly index: string;
  readonly method: VerificationMethod;
  readonly upstream: readonly GateSegment[];
  readonly authorizes: readonly string[];
}

function gate(segment: GateSegment, shape: GateShape): GateDefinition {
  const root = `data/layer${LAYER[segment]}/${segment}/validation/manifest_fingerprint={manifest_fingerprint}/`;
  return {
    gate_id: gateIdOf(segment),
    segment,
    scope: 'fingerprint',
    passed_flag_path_template: `${root}_passed.flag`,
    bundle_root_template: root,
    index_path_template: `${root}${shape.index}`,
    verification_method: shape.method,
    authorizes_outputs: shape.authorizes,
    upstream_gate_dependencies: shape.upstream.map(gateIdOf),
  };
}

/** Space-separated names → list (keeps the long authorizes_outputs lists readable). */
function words(text: string): readonly string[] {
  return text.split(/\s+/).filter(Boolean);
}

const BUNDLE: VerificationMethod = {
  kind: 'sha256_bundle_digest',
  digest_field: 'sha256_hex',
  ordering: 'ascii_lex',
  exclude_filenames: ['_passed.flag'],
};
const INDEX_RAW: VerificationMethod = {
  kind: 'sha256_index_json_ascii_lex_raw_bytes',
  digest_field: 'sha256_hex',
  ordering: 'ascii_lex',
  exclude_filenames: ['_passed.flag'],
};
const INDEX_RAW_5X: VerificationMethod = { ...INDEX_RAW, digest_field: 'bundle_digest_sha256' };

export const GATE_MAP: readonly GateDefinition[] = [
  gate('1A', {
    index: 'index.json',
    method: BUNDLE,
    upstream: [],
    authorizes: words('outlet_catalogue sealed_inputs_1A'),
  }),
  gate('1B', {
    index: 'index.json',
    method: BUNDLE,
    upstream: ['1A'],
    authorizes: words(
      's3_requirements s4_alloc_plan s5_site_tile_assignment s6_site_jitter s7_site_synthesis ' +
        'sealed_inputs_1B site_locations',
    ),
  }),
  gate('2A', {
    index: 'index.json',
    method: INDEX_RAW,
    upstream: ['1B'],
    authorizes: words('s1_tz_lookup s4_legality_report sealed_inputs_2A site_timezones tz_timetable_cache'),
  }),
  gate('2B', {
    index: 'index.json',
    method: { ...INDEX_RAW, path_base: 'run_root' },
    upstream: ['1B', '2A'],
    authorizes: words(
      's1_site_weights s2_alias_blob s2_alias_index s3_day_effects s4_group_weights ' +
        's7_audit_report sealed_inputs_2B',
    ),
  }),
  gate('3A', {
    index: 'index.json',
    method: { ...INDEX_RAW, kind: 'sha256_member_digest_concat', ordering: 'members_array_order' },
    upstream: ['1A', '1B', '2A'],
    authorizes: words(
      's1_escalation_queue s3_zone_shares s4_zone_counts s6_issue_table_3A s6_receipt_3A ' +
        's6_validation_report_3A sealed_inputs_3A zone_alloc zone_alloc_universe_hash',
    ),
  }),
  gate('3B', {
    index: 'index.json',
    method: INDEX_RAW,
    upstream: ['1A', '1B', '2A', '2B', '3A'],
    authorizes: words(
      'edge_alias_blob_3B edge_alias_index_3B edge_catalogue_3B edge_catalogue_index_3B ' +
        'edge_universe_hash_3B gamma_draw_log_3B s5_manifest_3B sealed_inputs_3B ' +
        'virtual_classification_3B virtual_routing_policy_3B virtual_settlement_3B ' +
        'virtual_validation_contract_3B',
    ),
  }),
  gate('5A', {
    index: 'validation_bundle_index_5A.json',
    method: INDEX_RAW_5X,
    upstream: ['1A', '1B', '2A', '2B', '3A', '3B'],
    authorizes: words(
      'class_zone_baseline_local_5A merchant_class_profile_5A merchant_zone_baseline_local_5A ' +
        'merchant_zone_baseline_utc_5A merchant_zone_overlay_factors_5A merchant_zone_profile_5A ' +
        'merchant_zone_scenario_local_5A merchant_zone_scenario_utc_5A scenario_manifest_5A ' +
        'sealed_inputs_5A validation_issue_table_5A validation_report_5A',
    ),
  }),
  gate('5B', {
    index: 'index.json',
    method: INDEX_RAW_5X,
    upstream: ['1A', '1B', '2A', '2B', '3A', '3B', '5A'],
    authorizes: words(
      'arrival_events_5B s1_grouping_5B s1_time_grid_5B s2_latent_field_5B ' +
        's2_realised_intensity_5B s3_bucket_counts_5B s4_arrival_anomalies_5B ' +
        's4_arrival_summary_5B sealed_inputs_5B validation_issue_table_5B validation_report_5B',
    ),
  }),
  gate('6A', {
    index: 'validation_bundle_index_6A.json',
    method: { ...INDEX_RAW, ordering: 'index_order' },
    upstream: ['1A', '1B', '2A', '2B', '3A', '3B', '5A', '5B'],
    authorizes: words(
      's1_party_base_6A s1_party_summary_6A s2_account_base_6A s2_account_summary_6A ' +
        's2_merchant_account_base_6A s2_party_product_holdings_6A s3_account_instrument_links_6A ' +
        's3_instrument_base_6A s3_instrument_summary_6A s3_party_instrument_holdings_6A ' +
        's4_device_base_6A s4_device_links_6A s4_entity_neighbourhoods_6A s4_ip_base_6A ' +
        's4_ip_links_6A s4_network_summary_6A s5_account_fraud_roles_6A s5_device_fraud_roles_6A ' +
        's5_ip_fraud_roles_6A s5_issue_table_6A s5_merchant_fraud_roles_6A ' +
        's5_party_fraud_roles_6A s5_validation_report_6A sealed_inputs_6A',
    ),
  }),
  gate('6B', {
    index: 'index.json',
    method: { ...INDEX_RAW, exclude_filenames: ['_passed.flag', 'index.json'] },
    upstream: ['1A', '1B', '2A', '2B', '3A', '3B', '5A', '5B', '6A'],
    authorizes: words(
      's1_arrival_entities_6B s1_session_index_6B s2_event_stream_baseline_6B ' +
        's2_flow_anchor_baseline_6B s3_campaign_catalogue_6B s3_event_stream_with_fraud_6B ' +
        's3_flow_anchor_with_fraud_6B s4_case_timeline_6B s4_event_labels_6B ' +
        's4_flow_bank_view_6B s4_flow_truth_labels_6B s5_issue_table_6B s5_validation_report_6B ' +
        'sealed_inputs_6B',
    ),
  }),
];

export function gateById(gateId: string): GateDefinition {
  const found = GATE_MAP.find((g) => g.gate_id === gateId);
  if (found === undefined) throw new Error(`UNKNOWN_GATE_ID: ${gateId}`);
  return found;
}

/**
 * §1.4's required gate set: gates authorizing any of the outputs ∪ their read_requires_gates, closed
 * over upstream dependencies; sorted by gate_id.
 */
export function requiredGateIds(
  outputIds: readonly string[],
  readRequires: readonly string[] = [],
): string[] {
  const required = new Set<string>(readRequires);
  for (const g of GATE_MAP)
    if (g.authorizes_outputs.some((o) => outputIds.includes(o))) required.add(g.gate_id);
  const pending = [...required];
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    for (const dep of gateById(id).upstream_gate_dependencies) {
      if (!required.has(dep)) {
        required.add(dep);
        pending.push(dep);
      }
    }
  }
  return [...required].sort();
}
