import { postgresCaseStore } from '../../lib/adapters/case-management-stores.ts';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { caseReportReads, runReporterPorts } from '../../lib/adapters/run-reporter-dependencies.ts';
import { generateRunReport, RunReportRequest } from '../../lib/run-reporter/generate.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { runReporterProvenance } from '../../lib/runtime/run-reporter-config.ts';

const env = platformEnvironment();
const deps = platformDependencies(env);
const ports = runReporterPorts(
  env,
  deps,
  {
    topCases: async (run, limit) =>
      caseReportReads(postgresCaseStore(await deps.pool())).topCases(run, limit),
  },
  runReporterProvenance(),
);

/** P11 OBS_GOV_CLOSED: the run report and its page, conformance, evidence refs, governance; the closeout gates. */
export const handler = taskHandler(
  RunReportRequest,
  async (request, { logger }) => {
    const result = await generateRunReport(request, ports);
    logger.info('run report', { written: result.written, closed: result.closed, gaps: result.gaps });
    return result;
  },
  { service: 'run-report', invalid: 'RUN_PHASE_REQUEST_INVALID' },
);
