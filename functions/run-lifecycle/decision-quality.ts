import { z } from 'zod';
import { decisionQualityPorts } from '../../lib/adapters/decision-quality-sources.ts';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { PlatformRunId } from '../../lib/contracts/platform-run.ts';
import { qualityReport } from '../../lib/run-lifecycle/decision-quality.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';

const env = platformEnvironment();
const deps = platformDependencies(env);
const ports = decisionQualityPorts(env, deps);

const DecisionQualityRequest = z.object({
  platform_run_id: PlatformRunId,
  /** The engine run the run streamed (`s3://<oracle bucket>/<prefix>`): its flow truth measures the decisions. */
  engine_run_root: z.string().regex(/^s3:\/\/[a-z0-9.-]{3,63}\/[A-Za-z0-9._/=-]{1,1024}$/),
});

/**
 * After P9: the decisions of the run against the world's flow truth (lib/run-lifecycle/decision-quality.ts), written to
 * `<run>/decision_fabric/quality.json` and answered. The truth only measures; it never reaches the decision lane.
 */
export const handler = taskHandler(
  DecisionQualityRequest,
  async (request, { logger }) => {
    const [decisions, truth] = await Promise.all([
      ports.decisions(request.platform_run_id),
      ports.truth(request.engine_run_root),
    ]);
    const report = { platform_run_id: request.platform_run_id, ...qualityReport(decisions, truth) };
    const ref = await ports.write(request.platform_run_id, report);
    logger.info('decision quality', {
      precision: report.precision,
      recall_fraud: report.recall_fraud,
      confusion: report.confusion,
    });
    return { ...report, report_ref: ref };
  },
  { service: 'decision-quality', invalid: 'RUN_PHASE_REQUEST_INVALID' },
);
