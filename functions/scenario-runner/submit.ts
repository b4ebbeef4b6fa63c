import { z } from 'zod';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { scenarioRunner } from '../../lib/adapters/scenario-runner-dependencies.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { byTrigger } from '../../lib/runtime/edge/by-trigger.ts';
import { httpHandler, RawBody } from '../../lib/runtime/edge/http-handler.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { scenarioRunnerEnvironment } from '../../lib/runtime/scenario-runner-config.ts';
import { handleRunsRequest } from '../../lib/scenario-runner/http-api.ts';

const env = platformEnvironment();
const runner = scenarioRunner(env, scenarioRunnerEnvironment(), platformDependencies(env));
const service = 'scenario-runner';

/**
 * scenario-runner-submit (control-ingress.md §3.3): `POST /v1/runs` on the HTTP API, and the same submission as a
 * Lambda task of the run lifecycle (event = the RunSubmission itself; answers the run's status; a refusal is an
 * error named by its reason code). A re-submit returns the existing status.
 */
export const http = httpHandler(
  RawBody,
  async (request, { logger }) => {
    const response = await handleRunsRequest(request, runner.api);
    if (response.statusCode < 500) logger.info('run submitted over HTTP', { status: response.statusCode });
    return response;
  },
  { service },
);

/** The submission parses itself (RUN_REQUEST_INVALID names every bad field). */
export const task = taskHandler(
  z.unknown(),
  async (submission, { logger }) => {
    const out = await runner.submit(submission);
    logger.info('run submitted', { run_id: out.run_id, state: out.state, disposition: out.disposition });
    return out;
  },
  { service, invalid: 'RUN_REQUEST_INVALID' },
);

export const handler = byTrigger({ http, task });
