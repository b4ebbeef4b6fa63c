import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeExecutionCommand, type DescribeExecutionOutput, SFNClient } from '@aws-sdk/client-sfn';
import {
  type StepFunctionsServerOptions,
  startStepFunctionsServer,
} from '../../../../local/step-functions/server.ts';

export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';

export const lambdaArn = (name: string): string => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
export const stateMachineArn = (name: string): string =>
  `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;

export type FakeFunction = (event: unknown) => unknown;

export interface FakeLambdaEndpoint {
  url: string;
  calls: Map<string, number>;
  close(): Promise<void>;
}

/** Imitates serverless-offline's Lambda invoke endpoint (:3002), including how it reports errors. */
export async function startFakeLambdaEndpoint(
  functions: Record<string, FakeFunction>,
): Promise<FakeLambdaEndpoint> {
  const calls = new Map<string, number>();
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(Buffer.from(chunk));
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(request.url ?? '');
    const name = decodeURIComponent(match?.[1] ?? '');
    const fn = functions[name];
    if (request.method !== 'POST' || !fn) {
      response.writeHead(404, {
        'content-type': 'application/json',
        'x-amzn-ErrorType': 'ResourceNotFoundException',
      });
      response.end(JSON.stringify({ Message: `Function not found: ${name}`, Type: 'User' }));
      return;
    }
    calls.set(name, (calls.get(name) ?? 0) + 1);
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      const result = await fn(text === '' ? {} : JSON.parse(text));
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(result === undefined ? '' : JSON.stringify(result));
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      response.writeHead(200, { 'content-type': 'application/json', 'X-Amz-Function-Error': 'Unhandled' });
      const trace = (failure.stack ?? `${failure.name}: ${failure.message}`).split('\n');
      response.end(JSON.stringify({ errorMessage: failure.message, errorType: 'Error', trace }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export function sfnClient(endpoint: string): SFNClient {
  return new SFNClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

/** Polls DescribeExecution until the execution leaves RUNNING (or the timeout passes). */
export async function waitForCompletion(
  client: SFNClient,
  executionArn: string,
  timeoutMs = 10_000,
): Promise<DescribeExecutionOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return described;
    if (Date.now() > deadline) throw new Error(`${executionArn} still RUNNING after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export class FlakyError extends Error {
  override name = 'FlakyError';
}

/** A local Step Functions server on a free port of 127.0.0.1 with these machines, and a client for it. */
export async function startLocalStepFunctions(
  stateMachines: StepFunctionsServerOptions['stateMachines'],
  lambdaEndpoint: string,
  options: Pick<StepFunctionsServerOptions, 'maxHistoryEvents' | 'log'> = {},
) {
  const server = await startStepFunctionsServer({
    host: '127.0.0.1',
    port: 0,
    region: REGION,
    accountId: ACCOUNT,
    lambdaEndpoint,
    stateMachines,
    ...options,
  });
  return { server, client: sfnClient(server.url) };
}
