import { degradeLadderDependencies } from '../../lib/adapters/degrade-ladder-dependencies.ts';
import { bundleRefOf } from '../../lib/decision-fabric/bundle.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { loadRulesBundle } from '../../lib/runtime/decision-fabric-config.ts';
import { degradeLadderSettings, loadDegradePolicy } from '../../lib/runtime/degrade-ladder-config.ts';
import { scheduleHandler } from '../../lib/runtime/edge/schedule-handler.ts';
import { projectorConfig } from '../../lib/runtime/rtdl-config.ts';

const ladder = degradeLadderDependencies(
  platformEnvironment(),
  degradeLadderSettings(),
  projectorConfig('identity-graph'),
  loadDegradePolicy(),
  // The registry's snapshot: the decision fabric's rules bundle, by its ref.
  { snapshot_id: bundleRefOf(loadRulesBundle()) },
);

/**
 * degrade-ladder (downstream.md §3.1), every minute on AWS: one tick — the run's signals judged, the posture decided
 * with hysteresis and committed with its change event — then the outbox published to
 * `<run>/degrade_ladder/control_events.jsonl`. The run is DEGRADE_LADDER_REQUIRED_PLATFORM_RUN_ID, else the active one.
 */
export const handler = scheduleHandler(
  async (_event, { logger }) => {
    const summary = await ladder.tick();
    logger.info('degrade ladder tick', { ...summary });
    return summary;
  },
  { service: 'degrade-ladder' },
);
