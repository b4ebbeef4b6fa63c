import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type ConformanceInputs, environmentConformance } from '../../../lib/run-reporter/conformance.ts';
import { reportGeneratedEvent } from '../../../lib/run-reporter/governance.ts';
import { stageCatalogue as parsedCatalogue } from '../../../lib/runtime/stage-catalogue.ts';
import { CATALOGUE_FILE, catalogueText, stageCatalogue } from '../../../tools/stage-catalogue.ts';

const provenance = { service_release_id: 'dev-local', environment: 'local' };
const sample = reportGeneratedEvent(
  { platformRunId: 'platform_20260101T000000Z', scenarioRunId: undefined, provenance, at: new Date(0) },
  's3://b/k',
  'a'.repeat(64),
);

function inputs(change: Partial<ConformanceInputs> = {}): ConformanceInputs {
  return {
    stages: [
      {
        stage: 'local',
        streamPrefix: '',
        secrets: { igApiKeys: 'world_streamer=k1,decision_fabric=k2', dfIgApiKey: 'k2' },
      },
      {
        stage: 'dev',
        streamPrefix: 'fraud-platform-dev-',
        secrets: { igApiKeys: '', igApiKeysSsmParameter: '/fraud-platform/dev/ig-api-keys' },
      },
    ],
    topics: ['fp.bus.traffic.fraud.v1', 'fp.bus.case.v1'],
    contractDigests: { schema_policy: 'b'.repeat(64) },
    policies: [{ name: 'ig_producer_policy', revision: 'v1' }],
    producerPrincipals: ['world_streamer', 'decision_fabric'],
    governanceSamples: [sample],
    ...change,
  };
}

describe('environment conformance', () => {
  it('PASS when every check passes, with the four checks named as the reference names them', () => {
    const c = environmentConformance(inputs());
    expect(c.status).toBe('PASS');
    expect(c.checks.map((k) => [k.check_id, k.status])).toEqual([
      ['semantic_contract_alignment', 'PASS'],
      ['policy_revision_presence', 'PASS'],
      ['security_corridor_posture', 'PASS'],
      ['governance_event_schema_contract', 'PASS'],
    ]);
    expect(c.profiles).toEqual(['local', 'dev']);
  });

  it('an inline secret on an AWS stage, an SSM parameter of another stage, or a key for an unknown principal fails the corridor', () => {
    const bad = environmentConformance(
      inputs({
        stages: [
          { stage: 'local', streamPrefix: '', secrets: { igApiKeys: 'intruder=k9' } },
          {
            stage: 'prod',
            streamPrefix: 'fraud-platform-prod-',
            secrets: { dfIgApiKey: 'plain-secret', igApiKeysSsmParameter: '/fraud-platform/dev/ig-api-keys' },
          },
        ],
      }),
    );
    expect(bad.status).toBe('FAIL');
    const corridor = bad.checks.find((k) => k.check_id === 'security_corridor_posture');
    expect(corridor?.status).toBe('FAIL');
    expect(corridor?.details.problems).toEqual([
      'local: key for unknown principal intruder',
      'prod: dfIgApiKey is inline (secrets come from SSM)',
      'prod: igApiKeysSsmParameter = /fraud-platform/dev/ig-api-keys',
    ]);
  });

  it('a policy without a revision, a bad digest, a malformed governance sample each fail their check', () => {
    const c = environmentConformance(
      inputs({
        policies: [{ name: 'rules', revision: '' }],
        contractDigests: { class_map: 'nope' },
        governanceSamples: [{ ...sample, event_family: 'NOT_A_FAMILY' }],
      }),
    );
    expect(c.checks.map((k) => k.status)).toEqual(['FAIL', 'FAIL', 'PASS', 'FAIL']);
  });

  it("this repository's stages pass the corridor check, and the catalogue is the YAML's (npm run stages:catalogue)", () => {
    expect(fs.readFileSync(CATALOGUE_FILE, 'utf8')).toBe(catalogueText(stageCatalogue()));
    const stages = parsedCatalogue().stages;
    expect(stages.map((s) => s.stage)).toEqual(['dev', 'local', 'localstack', 'prod']);
    const c = environmentConformance(
      inputs({
        stages: stages.map((s) => ({ stage: s.stage, streamPrefix: s.streamPrefix, secrets: s.secrets })),
        producerPrincipals: [
          'world_streamer',
          'decision_fabric',
          'action_layer',
          'case_trigger',
          'decision_log',
        ],
      }),
    );
    expect(c.checks.find((k) => k.check_id === 'security_corridor_posture')).toMatchObject({
      status: 'PASS',
    });
  });
});
