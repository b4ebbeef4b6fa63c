import { canonicalJson } from '../contracts/canonical-json.ts';
import type { EffectivePosture } from '../contracts/degrade-ladder.ts';
import { consumerCheckpointScope, sha256Hex } from '../contracts/identity.ts';
import { bundleRefOf, type RulesBundle } from '../decision-fabric/bundle.ts';
import type { DecisionFabricPorts } from '../decision-fabric/ports.ts';
import type { DegradePolicy } from '../degrade-ladder/policy.ts';
import { policyRevOf } from '../degrade-ladder/policy.ts';
import { effectivePosture } from '../degrade-ladder/posture-reader.ts';
import { DEGRADE_LADDER_STREAM_BASE, GLOBAL_SCOPE } from '../degrade-ladder/tick.ts';
import type { FeaturePolicy } from '../online-features/policy.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import type { DecisionFabricEnvironment } from '../runtime/decision-fabric-config.ts';
import type { ProjectorConfig } from '../runtime/rtdl-config.ts';
import { postgresDecisionContext } from './decision-fabric-context.ts';
import { postgresDecisionLedger } from './decision-fabric-stores.ts';
import { postgresPostureStore } from './degrade-ladder-stores.ts';
import { ingestionGateBatchPublisher } from './ingestion-gate-publisher.ts';
import { configuredSecret, ssmSecrets } from './parameters.ts';
import { projectorDependencies } from './projector-dependencies.ts';

/**
 * What the decision-fabric function reaches, wired once at cold start: the run in scope per batch (configured, else
 * the active run), the context (OFP and CSFB state in Postgres), the replay ledger, the Degrade Ladder's posture
 * (read per batch and judged by `effectivePosture`: missing, failing or stale ⇒ the FAIL_CLOSED mask), and IG's batch
 * route with the fabric's own API key (environment locally, SSM on AWS).
 */

export const DECISION_FABRIC_STREAM_BASE = 'df.v0';

export interface DecisionFabricPolicies {
  bundle: RulesBundle;
  features: FeaturePolicy;
  degrade: DegradePolicy;
}

/** sha256 of the digests of the policies a decision depends on (the payload's `run_config_digest`). */
export const runConfigDigestOf = (policies: DecisionFabricPolicies) =>
  sha256Hex(
    canonicalJson({
      rules_bundle: bundleRefOf(policies.bundle),
      feature_policy: sha256Hex(canonicalJson(policies.features)),
      degrade_policy: sha256Hex(canonicalJson(policies.degrade)),
      degrade_policy_rev: policyRevOf(policies.degrade),
    }),
  );

export function decisionFabricDependencies(
  env: PlatformEnvironment,
  df: DecisionFabricEnvironment,
  config: ProjectorConfig,
  policies: DecisionFabricPolicies,
) {
  const deps = projectorDependencies(env, config);
  const publisher = ingestionGateBatchPublisher({
    url: df.igUrl,
    apiKey: configuredSecret(ssmSecrets(deps.endpoints), {
      plain: df.igApiKey,
      parameter: df.igApiKeySsmParameter,
      what: 'DECISION_FABRIC_IG_API_KEY_SSM_PARAMETER',
    }),
    timeoutMs: df.igTimeoutMs,
    maxAttempts: 5,
    baseDelayMs: 100,
    maxDelayMs: 5_000,
  });
  return {
    ...deps,
    /** The ports of one batch, bound to the run in scope. */
    async portsFor(): Promise<{ platformRunId: string; ports: DecisionFabricPorts }> {
      const scope = await deps.runScope(DECISION_FABRIC_STREAM_BASE);
      const pool = await deps.pool();
      const postureStore = postgresPostureStore(
        pool,
        consumerCheckpointScope(DEGRADE_LADDER_STREAM_BASE, scope.platformRunId),
      );
      const ports: DecisionFabricPorts = {
        context: postgresDecisionContext(pool, scope.platformRunId, policies.features),
        ledger: postgresDecisionLedger(pool, scope.streamId),
        publisher,
        posture: (): Promise<EffectivePosture> =>
          effectivePosture(() => postureStore.current(GLOBAL_SCOPE), policies.degrade, new Date()),
        clock: { now: () => new Date() },
        sleeper: { sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
      };
      return { platformRunId: scope.platformRunId, ports };
    },
  };
}
