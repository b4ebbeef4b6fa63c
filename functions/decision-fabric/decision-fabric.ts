import {
  decisionFabricDependencies,
  runConfigDigestOf,
} from '../../lib/adapters/decision-fabric-dependencies.ts';
import { bundleRefOf } from '../../lib/decision-fabric/bundle.ts';
import { decideBatch } from '../../lib/decision-fabric/fabric.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { decisionFabricEnvironment, loadRulesBundle } from '../../lib/runtime/decision-fabric-config.ts';
import { loadDegradePolicy } from '../../lib/runtime/degrade-ladder-config.ts';
import { busBatchHandler } from '../../lib/runtime/edge/bus-handler.ts';
import { loadFeaturePolicy } from '../../lib/runtime/online-features-config.ts';
import { projectorConfig } from '../../lib/runtime/rtdl-config.ts';

const df = decisionFabricEnvironment();
const policies = { bundle: loadRulesBundle(), features: loadFeaturePolicy(), degrade: loadDegradePolicy() };
const deps = decisionFabricDependencies(
  platformEnvironment(),
  df,
  projectorConfig('decision-fabric'),
  policies,
);
const settings = {
  bundle: policies.bundle,
  bundleDigest: bundleRefOf(policies.bundle),
  runConfigDigest: runConfigDigestOf(policies),
  joinWaitMs: df.joinWaitMs,
  pollMs: df.pollMs,
};

/**
 * decision-fabric (downstream.md §3.2, our rules; docs/decision-lane.md): the traffic topic's mapping. Each batch is
 * decided as one: context waited for (bounded), posture, snapshots, rules, the replay ledger, one publish of the
 * decisions and intents through IG's batch route. A store or IG failure fails the batch; the mapping retries it and the
 * ledger republishes exactly what it decided.
 */
export const handler = busBatchHandler(async (records) => {
  const { platformRunId, ports } = await deps.portsFor();
  await decideBatch(ports, records, { ...settings, requiredPlatformRunId: platformRunId });
}, deps.busOptions('decision-fabric'));
