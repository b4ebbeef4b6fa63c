/**
 * Local AWS Step Functions API (AWS JSON 1.0 protocol) over aws-local-stepfunctions, so unchanged
 * `@aws-sdk/client-sfn` code works against it. Task states run through local handlers: Lambda tasks
 * are invoked by function name on serverless-offline's Lambda endpoint, states:startExecution[.sync[:2]]
 * starts child executions inside this server.
 *
 * State machines and executions live only in memory for the server's lifetime: the persistence of
 * STANDARD workflows (history kept 90 days, executions surviving restarts) is not reproduced.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExecutionRegistry } from './executions.ts';
import { LambdaInvoker } from './lambda-tasks.ts';
import { callOperation, type Services } from './operations.ts';
import { ApiError, isOperation } from './protocol.ts';
import { StateMachineRegistry } from './state-machines.ts';

export interface StateMachineSpec {
  name: string;
  definition: Record<string, unknown>;
  type?: 'STANDARD' | 'EXPRESS';
  roleArn?: string;
}

export interface StepFunctionsServerOptions {
  host: string;
  port: number;
  region: string;
  accountId: string;
  lambdaEndpoint: string;
  stateMachines: StateMachineSpec[];
  log?: (line: Record<string, unknown>) => void;
  /** Events an execution may have before it fails as on AWS (default AWS's 25,000). */
  maxHistoryEvents?: number;
}

const TARGET_PREFIX = 'AWSStepFunctions.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const MAX_BODY_BYTES = 2 * 1024 * 1024;

export async function startStepFunctionsServer(
  o: StepFunctionsServerOptions,
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const log = o.log ?? (() => {});
  const machines = new StateMachineRegistry(o.region, o.accountId);
  const lambda = new LambdaInvoker(o.lambdaEndpoint, o.region);
  const services: Services = {
    machines,
    executions: new ExecutionRegistry({
      region: o.region,
      machines,
      lambda,
      log,
      maxHistoryEvents: o.maxHistoryEvents,
    }),
  };
  for (const spec of o.stateMachines) {
    try {
      machines.create({
        name: spec.name,
        definition: JSON.stringify(spec.definition),
        roleArn: spec.roleArn ?? `arn:aws:iam::${o.accountId}:role/${spec.name}-role`,
        type: spec.type,
      });
    } catch (error) {
      // fail fast at start, naming the machine whose definition is refused
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`state machine '${spec.name}': ${reason}`);
    }
  }

  const server = createServer((request, response) => {
    handle(request, response, services).catch((error: unknown) => {
      log({ level: 'error', msg: 'step functions request failed', error: String(error) });
      if (!response.headersSent)
        respondError(response, new ApiError('InternalFailure', 'Internal failure', 500));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${o.host}:${port}`;
  log({ msg: 'step functions listening', url, stateMachines: o.stateMachines.map((spec) => spec.name) });

  return {
    url,
    port,
    async close() {
      await services.executions.stopAll();
      lambda.destroy();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, services: Services): Promise<void> {
  try {
    const target = request.headers['x-amz-target'];
    const operation =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX)
        ? target.slice(TARGET_PREFIX.length)
        : '';
    if (request.method !== 'POST' || !isOperation(operation)) {
      throw new ApiError('UnknownOperationException', `Unknown operation: ${String(target)}`);
    }
    const result = await callOperation(operation, await readJsonBody(request), services);
    respond(response, 200, result);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    respondError(response, error);
  }
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new ApiError('ValidationException', 'Request body too large');
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new ApiError('SerializationException', 'Request body is not valid JSON');
  }
}

function respondError(response: ServerResponse, error: ApiError): void {
  response.setHeader('x-amzn-ErrorType', error.code);
  respond(response, error.statusCode, { __type: error.code, message: error.message });
}

function respond(response: ServerResponse, statusCode: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(statusCode, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
  });
  response.end(text);
}
