import { GOVERNANCE_EVENT_FAMILIES, PlatformGovernanceEvent } from '../contracts/governance.ts';

/**
 * Environment conformance (downstream.md §5 "Conformance"): `obs/environment_conformance.json`, PASS iff its four checks
 * pass, computed from this repository's stage configs (config/stages/*.yml, read through the stage catalogue) and the
 * policies every stage deploys. The contract itself (partitioning, schema policy, class map, topics) is code shared by
 * every stage's bundle; what a stage can change is its names, its secrets and where they come from.
 */

/** What one stage config declares, as the catalogue carries it (raw values, `${…}` expressions unresolved). */
export interface StageFacts {
  stage: string;
  streamPrefix: string;
  /** Every `*ApiKey` / `*ApiKeys` value and every `*SsmParameter` value of the stage, by key. */
  secrets: Record<string, string>;
}

export interface ConformanceInputs {
  stages: readonly StageFacts[];
  /** The topics of the contract (the same list every stage's streams are named from). */
  topics: readonly string[];
  /** Digests of the contract pieces every stage deploys (partitioning profiles, schema policy, class map). */
  contractDigests: Record<string, string>;
  /** The policies a run depends on, with their revisions. */
  policies: readonly { name: string; revision: string | undefined }[];
  /** IG's producer principals (the allowlist a local key must name). */
  producerPrincipals: readonly string[];
  /** A governance event of each family the platform emits, to check against the schema. */
  governanceSamples: readonly unknown[];
}

export interface ConformanceCheck {
  check_id: string;
  status: 'PASS' | 'FAIL';
  details: Record<string, unknown>;
}

export interface EnvironmentConformance {
  status: 'PASS' | 'FAIL';
  checks: ConformanceCheck[];
  profiles: string[];
}

const LOCAL_STAGES = new Set(['local', 'localstack']);
const check = (check_id: string, problems: string[], details: Record<string, unknown>): ConformanceCheck => ({
  check_id,
  status: problems.length === 0 ? 'PASS' : 'FAIL',
  details: { ...details, problems },
});

function semanticAlignment(i: ConformanceInputs): ConformanceCheck {
  const problems: string[] = [];
  for (const s of i.stages) {
    if (!/^[a-zA-Z0-9_.-]*$/.test(s.streamPrefix))
      problems.push(`${s.stage}: stream prefix ${s.streamPrefix}`);
    const streams = i.topics.map((t) => `${s.streamPrefix}${t}`);
    for (const stream of streams)
      if (stream.length > 128) problems.push(`${s.stage}: ${stream} longer than 128`);
  }
  if (i.topics.length === 0) problems.push('no topics');
  for (const [piece, digest] of Object.entries(i.contractDigests))
    if (!/^[0-9a-f]{64}$/.test(digest)) problems.push(`${piece}: no digest`);
  return check('semantic_contract_alignment', problems, {
    stages: i.stages.map((s) => s.stage),
    topics: i.topics,
    contract_digests: i.contractDigests,
    note: 'every stage deploys the same bundle: one partitioning, schema policy, class map and topic list; stages differ only in stream prefix',
  });
}

function policyRevisions(i: ConformanceInputs): ConformanceCheck {
  const missing = i.policies.filter((p) => !p.revision || p.revision.trim() === '').map((p) => p.name);
  return check(
    'policy_revision_presence',
    missing.map((m) => `${m}: no revision`),
    { policies: Object.fromEntries(i.policies.map((p) => [p.name, p.revision ?? null])) },
  );
}

/** Local stages: API keys inline, each naming a known principal; AWS stages: no inline secret, every one from SSM. */
function securityCorridor(i: ConformanceInputs): ConformanceCheck {
  const problems: string[] = [];
  const principals = new Set(i.producerPrincipals);
  for (const s of i.stages) {
    const keys = Object.entries(s.secrets);
    const inline = keys.filter(([k, v]) => !k.endsWith('SsmParameter') && v.trim() !== '');
    const ssm = keys.filter(([k, v]) => k.endsWith('SsmParameter') && v.trim() !== '');
    if (LOCAL_STAGES.has(s.stage)) {
      const igKeys = s.secrets.igApiKeys ?? '';
      if (igKeys.trim() === '') problems.push(`${s.stage}: no igApiKeys`);
      for (const entry of igKeys.split(',').filter((e) => e.trim() !== '')) {
        const principal = entry.split('=')[0]?.trim() ?? '';
        if (!principals.has(principal)) problems.push(`${s.stage}: key for unknown principal ${principal}`);
      }
    } else {
      for (const [k] of inline) problems.push(`${s.stage}: ${k} is inline (secrets come from SSM)`);
      for (const [k, v] of keys.filter(([key]) => key.endsWith('SsmParameter')))
        if (!v.startsWith(`/fraud-platform/${s.stage}/`))
          problems.push(`${s.stage}: ${k} = ${v || '(empty)'}`);
      if (ssm.length === 0) problems.push(`${s.stage}: no SSM parameter`);
    }
  }
  return check('security_corridor_posture', problems, {
    stages: Object.fromEntries(
      i.stages.map((s) => [
        s.stage,
        LOCAL_STAGES.has(s.stage) ? 'api_key + allowlist (parity keys inline)' : 'keys from SSM SecureString',
      ]),
    ),
  });
}

function governanceSchema(i: ConformanceInputs): ConformanceCheck {
  const problems: string[] = [];
  const families = new Set<string>();
  for (const sample of i.governanceSamples) {
    const parsed = PlatformGovernanceEvent.safeParse(sample);
    if (!parsed.success) problems.push(`sample invalid: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
    else families.add(parsed.data.event_family);
  }
  if (i.governanceSamples.length === 0) problems.push('no governance sample');
  return check('governance_event_schema_contract', problems, {
    families: GOVERNANCE_EVENT_FAMILIES,
    samples_checked: i.governanceSamples.length,
    sample_families: [...families].sort(),
  });
}

export function environmentConformance(inputs: ConformanceInputs): EnvironmentConformance {
  const checks = [
    semanticAlignment(inputs),
    policyRevisions(inputs),
    securityCorridor(inputs),
    governanceSchema(inputs),
  ];
  return {
    status: checks.every((c) => c.status === 'PASS') ? 'PASS' : 'FAIL',
    checks,
    profiles: inputs.stages.map((s) => s.stage),
  };
}
