import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { lambdaClient } from '../../lib/adapters/aws-clients.ts';
import { canonicalJson, parseJsonLossless } from '../../lib/contracts/canonical-json.ts';
import type { StackState } from '../../local/stack.ts';
import { readStream, type StreamRecord } from './bus.ts';

/**
 * The Scenario Runner's two ways in on a local cloud (control-ingress.md §3): `POST /v1/runs` on serverless-offline's
 * HTTP port, and the run lifecycle's task function invoked with the submission as its event.
 */

export const SR_API_KEY = 'local-parity-sr';
export const SR_PLATFORM_BUCKET = 'fraud-platform';
export const SR_CONTROL_BUS = 'sr-control-bus';

export interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface TaskAnswer {
  functionError: string | undefined;
  payload: Record<string, unknown>;
}

export function scenarioRunnerClient(state: StackState) {
  const lambda = lambdaClient({ region: state.region, lambda: state.endpoints.lambda });
  const taskFunction = state.functions.find((f) => f.endsWith('scenario-runner-submit-task'));
  return {
    /** POST /v1/runs with `X-SR-Api-Key` (null: no key); a string body is sent as it is. */
    async post(body: unknown, key: string | null = SR_API_KEY): Promise<HttpAnswer> {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (key !== null) headers['x-sr-api-key'] = key;
      const res = await fetch(`${state.endpoints.http}/v1/runs`, {
        method: 'POST',
        headers,
        body: typeof body === 'string' ? body : canonicalJson(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? parseJsonLossless(text) : {}) as Record<string, unknown> };
    },

    /** The run lifecycle's way in: the task function invoked with the submission as its event. */
    async invokeTask(event: unknown): Promise<TaskAnswer> {
      const out = await lambda.send(
        new InvokeCommand({
          FunctionName: taskFunction ?? 'scenario-runner-submit-task',
          Payload: Buffer.from(canonicalJson(event)),
        }),
      );
      const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
      return {
        functionError: out.FunctionError,
        payload: (text ? parseJsonLossless(text) : {}) as Record<string, unknown>,
      };
    },
  };
}

/** The records on sr-control-bus whose partition key is the run id (SR publishes READY with `PartitionKey = run_id`). */
export async function controlRecordsOf(kinesis: KinesisClient, runId: string): Promise<StreamRecord[]> {
  return (await readStream(kinesis, SR_CONTROL_BUS)).filter((r) => r.partitionKey === runId);
}

/** A JSON object of the platform bucket, parsed losslessly. */
export async function platformJson(s3: S3Client, key: string): Promise<unknown> {
  const got = await s3.send(new GetObjectCommand({ Bucket: SR_PLATFORM_BUCKET, Key: key }));
  return parseJsonLossless((await got.Body?.transformToString('utf8')) ?? '');
}
