import http from 'node:http';
import {
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  LambdaServiceException,
} from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { lambdaFunctionName } from './arns.ts';
import { isJsonObject, type JsonValue } from './engine.ts';
import { TaskFailure } from './task-failure.ts';

export interface LambdaResult {
  payload: JsonValue;
  executedVersion: string;
}

/** Invokes functions on serverless-offline's Lambda endpoint, which knows them by name only (not by ARN). */
export class LambdaInvoker {
  readonly #client: LambdaClient;

  constructor(endpoint: string, region: string) {
    this.#client = new LambdaClient({
      endpoint,
      region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1, // retries belong to the state's Retry, where they show in the history
      // A fresh connection per invoke: a kept-alive socket the endpoint closes as it idles out (Node's 5 s) while a
      // loop state waits 2–3 s between invokes reset the next request (ECONNRESET) on a busy machine.
      requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: false }) }),
    });
  }

  /** Resolves with the parsed payload; rejects with a TaskFailure named as AWS names the error. */
  async invoke(functionNameOrArn: string, payload: JsonValue | undefined): Promise<LambdaResult> {
    const functionName = lambdaFunctionName(functionNameOrArn);
    let response: InvokeCommandOutput;
    try {
      response = await this.#client.send(
        new InvokeCommand({
          FunctionName: functionName,
          Payload: payload === undefined ? undefined : Buffer.from(JSON.stringify(payload)),
        }),
      );
    } catch (error) {
      throw invokeFailure(error);
    }
    const result = decodePayload(response.Payload);
    if (response.FunctionError) throw functionFailure(result);
    return { payload: result, executedVersion: '$LATEST' };
  }

  destroy(): void {
    this.#client.destroy();
  }
}

function decodePayload(bytes: Uint8Array | undefined): JsonValue {
  const text = bytes ? Buffer.from(bytes).toString('utf8') : '';
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text; // serverless-offline quotes string results without escaping them
  }
}

/** The service rejected the call (e.g. 404 → Lambda.ResourceNotFoundException) or could not be reached. */
function invokeFailure(error: unknown): TaskFailure {
  if (error instanceof LambdaServiceException) return new TaskFailure(`Lambda.${error.name}`, error.message);
  const message = error instanceof Error ? error.message : String(error);
  return new TaskFailure('Lambda.ServiceException', `Lambda endpoint unreachable: ${message}`);
}

/**
 * A function error: Retry/Catch match its errorType, the Cause is the error payload as JSON (as on AWS).
 * serverless-offline always reports errorType "Error", but its trace[0] is the stack's first line,
 * "<Name>: <message>", so the real name (e.g. FlakyError) is taken from there.
 */
function functionFailure(result: JsonValue): TaskFailure {
  const body = isJsonObject(result) ? result : {};
  const reported = typeof body.errorType === 'string' ? body.errorType : 'Error';
  const errorType = reported === 'Error' ? (nameFromTrace(body.trace) ?? reported) : reported;
  return new TaskFailure(errorType, JSON.stringify({ ...body, errorType }));
}

function nameFromTrace(trace: JsonValue | undefined): string | undefined {
  const firstLine = Array.isArray(trace) ? trace[0] : undefined;
  if (typeof firstLine !== 'string') return undefined;
  return /^([^\s:]+)(?::|$)/.exec(firstLine)?.[1];
}
