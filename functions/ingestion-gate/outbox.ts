import { ingestionGate } from '../../lib/adapters/ingestion-gate-dependencies.ts';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { drainOutbox, OUTBOX_ACTOR } from '../../lib/ingestion-gate/admission.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { scheduleHandler } from '../../lib/runtime/edge/schedule-handler.ts';
import { ingestionGateEnvironment } from '../../lib/runtime/ingestion-gate-config.ts';

const env = platformEnvironment();
const gate = ingestionGate(env, ingestionGateEnvironment(), platformDependencies(env));

/** Publishes admissions whose publish failed and that no push came back for (every minute on AWS). */
export const handler = scheduleHandler(
  async (_event, { logger }) => {
    const admitted = await drainOutbox(await gate.context(), OUTBOX_ACTOR);
    if (admitted.length > 0) logger.info('outbox drained', { admitted: admitted.length });
    return { admitted: admitted.length };
  },
  { service: 'ingestion-gate-outbox' },
);
