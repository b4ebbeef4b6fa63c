import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { scenarioRunner } from '../../lib/adapters/scenario-runner-dependencies.ts';
import { canonicalJson } from '../../lib/contracts/canonical-json.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { createLogger } from '../../lib/runtime/logger.ts';
import { scenarioRunnerEnvironment } from '../../lib/runtime/scenario-runner-config.ts';
import { errorDetail, handleRunsRequest } from '../../lib/scenario-runner/http-api.ts';
import { ScenarioRunnerError } from '../../lib/scenario-runner/reason-codes.ts';
import type { SubmissionResponse } from '../../lib/scenario-runner/submission.ts';

const env = platformEnvironment();
const runner = scenarioRunner(env, scenarioRunnerEnvironment(), platformDependencies(env));
const logger = createLogger('scenario-runner');

/** An API Gateway HTTP API (payload v2) event: what tells an HTTP call from a Step Functions task. */
const HttpApiEvent = z.object({
  rawPath: z.string(),
  requestContext: z.object({ http: z.object({ method: z.string() }) }),
  headers: z.record(z.string(), z.string().optional()).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
});

/** A submission refused; named by its reason code so a state machine can Catch it. */
class SubmissionRefused extends Error {
  constructor(code: string, detail: string) {
    super(detail);
    this.name = code;
  }
}

/**
 * scenario-runner-submit (control-ingress.md §3.3): `POST /v1/runs` on the HTTP API, and the same submission as a
 * Lambda task of the run lifecycle (event = the RunSubmission itself; answers the run's status, throws an error
 * named by the reason code on a refusal). A re-submit returns the existing status.
 */
export const handler = async (event: unknown): Promise<APIGatewayProxyResultV2 | SubmissionResponse> => {
  if (typeof event === 'object' && event !== null && 'requestContext' in event) {
    const http = HttpApiEvent.safeParse(event);
    if (!http.success)
      return reply(400, { error: 'REQUEST_INVALID', detail: 'not an HTTP API (payload v2) event' });
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(http.data.headers ?? {})) headers[k.toLowerCase()] = v;
    const { body, isBase64Encoded } = http.data;
    const response = await handleRunsRequest(
      {
        method: http.data.requestContext.http.method,
        path: http.data.rawPath,
        headers,
        body: body === undefined || !isBase64Encoded ? body : Buffer.from(body, 'base64').toString('utf8'),
      },
      runner.api,
    );
    if (response.statusCode >= 500) logger.error('scenario runner error', { response: response.body });
    else logger.info('run submitted over HTTP', { status: response.statusCode, response: response.body });
    return reply(response.statusCode, response.body);
  }

  try {
    const out = await runner.submit(event);
    logger.info('run submitted', { run_id: out.run_id, state: out.state, disposition: out.disposition });
    return out;
  } catch (e) {
    if (e instanceof ScenarioRunnerError) throw new SubmissionRefused(e.code, errorDetail(e));
    throw e;
  }
};

function reply(statusCode: number, body: unknown): APIGatewayProxyResultV2 {
  // Seeds may be 64-bit ints (bigint): canonical JSON writes them exactly.
  return { statusCode, headers: { 'content-type': 'application/json' }, body: canonicalJson(body) };
}
