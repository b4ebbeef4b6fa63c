import { caseTriggerDependencies } from '../../lib/adapters/case-trigger-dependencies.ts';
import { handleCaseTriggerBatch } from '../../lib/case-trigger/intake.ts';
import { PlatformError } from '../../lib/errors/platform-error.ts';
import { caseTriggerEnvironment } from '../../lib/runtime/case-trigger-config.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { busBatchHandler } from '../../lib/runtime/edge/bus-handler.ts';

const settings = caseTriggerEnvironment();
const deps = caseTriggerDependencies(platformEnvironment(), settings);

/**
 * case-trigger (downstream.md §4.1): the rtdl topic's mapping. Decisions that escalate and failed or denied outcomes
 * become case triggers, claimed on the replay ledger and published through IG's batch route. A publish that stays
 * AMBIGUOUS fails the batch: the mapping redelivers it, and the ledger publishes the same envelopes again.
 */
export const handler = busBatchHandler(async (records, { logger }) => {
  const { platformRunId, ports } = await deps.portsFor();
  const answer = await handleCaseTriggerBatch(records, ports, {
    requiredPlatformRunId: platformRunId,
    escalate: settings.escalate,
  });
  if (answer.retry)
    throw new PlatformError(
      'IG_PUBLISH_AMBIGUOUS',
      'case triggers not acknowledged by IG: the batch is retried',
      {
        retryable: true,
      },
    );
  logger.debug('case trigger batch', { counts: answer.counts });
}, deps.busOptions('case-trigger'));
