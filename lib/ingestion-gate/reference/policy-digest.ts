/**
 * The IG policy `content_digest` (= receipts' `run_config_digest`, control-ingress.md §5.4): sha256 of CJ of
 * the three policy files (schema policy, class map, partitioning profiles) as parsed YAML, under the
 * reference's paths `config/platform/ig/…_v0.yaml`. Pinned here (Lambdas parse no YAML);
 * test/unit/ingestion-gate/policy-digest.test.ts recomputes it from the files.
 */
export const IG_POLICY_FILES = [
  'config/platform/ig/class_map_v0.yaml',
  'config/platform/ig/partitioning_profiles_v0.yaml',
  'config/platform/ig/schema_policy_v0.yaml',
] as const;

export const IG_POLICY_CONTENT_DIGEST = 'c3568cfd4a2d930b0e513bff197a24b4d2b4cb65df8fd7be4ffd73f8c4572908';
