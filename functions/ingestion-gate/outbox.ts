import { ingestionGate } from '../../lib/adapters/ingestion-gate-dependencies.ts';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { drainOutbox } from '../../lib/ingestion-gate/admission.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { ingestionGateEnvironment } from '../../lib/runtime/ingestion-gate-config.ts';
import { createLogger } from '../../lib/runtime/logger.ts';

const env = platformEnvironment();
const gate = ingestionGate(env, ingestionGateEnvironment(), platformDependencies(env));
const logger = createLogger('ingestion-gate-outbox');

/** Publishes admissions whose publish failed and that no push came back for (every minute on AWS). */
export const handler = async () => {
  const admitted = await drainOutbox(await gate.context(), {
    actor_id: 'SYSTEM::ig-outbox',
    source_type: 'SYSTEM',
  });
  if (admitted.length > 0) logger.info('outbox drained', { admitted: admitted.length });
  return { admitted: admitted.length };
};
