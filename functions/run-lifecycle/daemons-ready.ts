import { ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { lambdaClient } from '../../lib/adapters/aws-clients.ts';
import { s3PhaseEvidenceStore } from '../../lib/adapters/phase-evidence-store.ts';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { postgresRunRegistry } from '../../lib/adapters/run-registry.ts';
import { daemonsReady } from '../../lib/run-lifecycle/daemons-ready.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { createLogger } from '../../lib/runtime/logger.ts';

const env = platformEnvironment();
const deps = platformDependencies(env);
const logger = createLogger('daemons-ready');
// The local cloud serves ListEventSourceMappings from its poller (ESM_API_ENDPOINT); on AWS it is Lambda's API.
const lambda = lambdaClient({
  ...deps.endpoints,
  lambda: process.env.ESM_API_ENDPOINT || deps.endpoints.lambda,
});
const required = (process.env.REQUIRED_CONSUMERS ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

/** P2 DAEMONS_READY gate: the run's consumers have their mappings enabled and the active run is this run. */
export const handler = async (event: unknown) => {
  const registry = postgresRunRegistry(await deps.pool());
  const result = await daemonsReady(event, required, {
    async mappingsOf(functionName) {
      const out = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: functionName }));
      return (out.EventSourceMappings ?? []).map((m) => ({
        source: m.EventSourceArn ?? '?',
        state: m.State ?? '?',
      }));
    },
    activeRun: () => registry.activeRun(),
    evidence: s3PhaseEvidenceStore(deps.s3, env.PLATFORM_BUCKET),
  });
  logger.info('daemons ready gate', { ready: result.ready, summary: result.summary });
  return result;
};
