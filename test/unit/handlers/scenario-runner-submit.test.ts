import './handler-environment.ts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/scenario-runner/submit.ts';
import { handleRunsRequest } from '../../../lib/scenario-runner/http-api.ts';
import { ScenarioRunnerError } from '../../../lib/scenario-runner/reason-codes.ts';
import { httpApiEvent, lambdaContext, taskEvent, taskFailure } from './factories.ts';

const submit = vi.hoisted(() => vi.fn());
vi.mock('../../../lib/adapters/scenario-runner-dependencies.ts', () => ({
  scenarioRunner: () => ({ api: { port: 'runs api' }, submit }),
}));
vi.mock('../../../lib/scenario-runner/http-api.ts', async (original) => ({
  ...(await original<typeof import('../../../lib/scenario-runner/http-api.ts')>()),
  handleRunsRequest: vi.fn(),
}));

const http = vi.mocked(handleRunsRequest);
const context = lambdaContext();

describe('scenario-runner submit handler: HTTP and task edges in one function', () => {
  beforeEach(() => {
    http.mockReset();
    submit.mockReset();
  });

  it('HTTP: POST /v1/runs goes to the runs API; its answer is written as JSON', async () => {
    http.mockResolvedValue({ statusCode: 202, body: { run_id: 'r1', state: 'PENDING' } });
    const response = await handler(
      httpApiEvent({ path: '/v1/runs', body: '{"a":1}', headers: { 'X-SR-Api-Key': 'k' } }),
      context,
    );
    expect(response).toMatchObject({ statusCode: 202 });
    expect(JSON.parse((response as { body: string }).body)).toEqual({ run_id: 'r1', state: 'PENDING' });
    expect(http.mock.calls[0]?.[0]).toMatchObject({
      path: '/v1/runs',
      body: '{"a":1}',
      headers: { 'x-sr-api-key': 'k' },
    });
    expect(submit).not.toHaveBeenCalled();
  });

  it('HTTP: a request context that is not an HTTP API one is 400 REQUEST_INVALID', async () => {
    const response = await handler({ requestContext: { nope: true } }, context);
    expect(response).toMatchObject({ statusCode: 400 });
    expect(JSON.parse((response as { body: string }).body).error).toBe('REQUEST_INVALID');
    expect(http).not.toHaveBeenCalled();
  });

  it('task: the submission goes to the core; its status is the output', async () => {
    submit.mockResolvedValue({ run_id: 'r1', state: 'READY', disposition: 'CREATED' });
    await expect(handler(taskEvent({ run_equivalence_key: 'k' }), context)).resolves.toEqual({
      run_id: 'r1',
      state: 'READY',
      disposition: 'CREATED',
    });
    expect(submit).toHaveBeenCalledWith({ run_equivalence_key: 'k' });
  });

  it('task: a refusal is an error named by its reason code, its detail the message', async () => {
    submit.mockRejectedValue(new ScenarioRunnerError('RUN_REQUEST_INVALID', 'window_start: required'));
    await expect(taskFailure(handler(taskEvent({}), context))).resolves.toEqual({
      name: 'RUN_REQUEST_INVALID',
      message: 'window_start: required',
    });
  });
});
