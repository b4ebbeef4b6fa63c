import { ACTION_LAYER_POLICY_V0 } from '../../lib/action-layer/authz.ts';
import { handleActionIntents } from '../../lib/action-layer/intake.ts';
import {
  ACTION_LAYER_POSTURE,
  actionLayerDependencies,
} from '../../lib/adapters/action-layer-dependencies.ts';
import { PlatformError } from '../../lib/errors/platform-error.ts';
import { actionLayerEnvironment } from '../../lib/runtime/action-layer-config.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { busBatchHandler } from '../../lib/runtime/edge/bus-handler.ts';
import { projectorConfig } from '../../lib/runtime/rtdl-config.ts';

const deps = actionLayerDependencies(
  platformEnvironment(),
  actionLayerEnvironment(),
  projectorConfig('action-layer'),
);

/**
 * action-layer (downstream.md §3.3): the rtdl topic's mapping. Intents are claimed by semantic key, authorised,
 * executed by the simulated executor with the retry engine, their outcomes appended and published in one IG batch. A
 * publish that stays AMBIGUOUS fails the batch: the mapping redelivers it, and the ledger republishes the same
 * outcomes without executing again.
 */
export const handler = busBatchHandler(async (records, { logger }) => {
  const { platformRunId, ports } = await deps.portsFor();
  const answer = await handleActionIntents(records, ACTION_LAYER_POSTURE, ports, {
    requiredPlatformRunId: platformRunId,
    policy: ACTION_LAYER_POLICY_V0,
  });
  if (answer.retry)
    throw new PlatformError('IG_PUBLISH_AMBIGUOUS', 'outcomes not acknowledged by IG: the batch is retried', {
      retryable: true,
    });
  logger.debug('action layer batch', { counts: answer.counts });
}, deps.busOptions('action-layer'));
