import type { ExecutionPosture } from '../action-layer/authz.ts';
import { faultInjectingExecutor, noopExecutor } from '../action-layer/executor.ts';
import type { ActionLayerPorts } from '../action-layer/ports.ts';
import { actionLayerStreamId } from '../contracts/action-layer.ts';
import type { ActionLayerEnvironment } from '../runtime/action-layer-config.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import type { ProjectorConfig } from '../runtime/rtdl-config.ts';
import { postgresActionLayerStore } from './action-layer-stores.ts';
import { ingestionGateBatchPublisher } from './ingestion-gate-publisher.ts';
import { configuredSecret, ssmSecrets } from './parameters.ts';
import { projectorDependencies } from './projector-dependencies.ts';

/**
 * What the action-layer function reaches, wired once at cold start: the run in scope per batch, the semantic ledger and
 * outcome store (Postgres), the simulated executor (faults injected from the environment, else always COMMITTED), and
 * IG's batch route with the layer's own API key. The execution posture is the layer's own policy's (NORMAL, as in the
 * reference's `al/policy_v0.yaml`): the degrade ladder clamps what the fabric decides, not whether the layer executes.
 */

export const ACTION_LAYER_POSTURE: ExecutionPosture = {
  mode: 'NORMAL',
  allow_execution: true,
  reason: 'ACTION_LAYER_POLICY_POSTURE',
};

export function actionLayerDependencies(
  env: PlatformEnvironment,
  al: ActionLayerEnvironment,
  config: ProjectorConfig,
) {
  const deps = projectorDependencies(env, config);
  const executor =
    Object.keys(al.simulatedFaults).length === 0
      ? noopExecutor()
      : faultInjectingExecutor(al.simulatedFaults);
  const publisher = ingestionGateBatchPublisher({
    url: al.igUrl,
    apiKey: configuredSecret(ssmSecrets(deps.endpoints), {
      plain: al.igApiKey,
      parameter: al.igApiKeySsmParameter,
      what: 'ACTION_LAYER_IG_API_KEY_SSM_PARAMETER',
    }),
    timeoutMs: al.igTimeoutMs,
    maxAttempts: 5,
    baseDelayMs: 100,
    maxDelayMs: 5_000,
  });
  return {
    ...deps,
    async portsFor(): Promise<{ platformRunId: string; ports: ActionLayerPorts }> {
      const scope = await deps.runScope('al.v0');
      return {
        platformRunId: scope.platformRunId,
        ports: {
          store: postgresActionLayerStore(await deps.pool(), actionLayerStreamId(scope.platformRunId)),
          executor,
          publisher,
          clock: { now: () => new Date() },
          sleeper: { sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
        },
      };
    },
  };
}
