import type { APIGatewayProxyEventV2, Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

/**
 * Event factories for handler tests, in the style of Powertools' tests/helpers/factories.ts: one real AWS event
 * shape each, overridable where a test cares.
 */

export function lambdaContext(overrides: Partial<Context> = {}): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'fraud-platform-test-handler',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fraud-platform-test-handler',
    memoryLimitInMB: '256',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: '/aws/lambda/fraud-platform-test-handler',
    logStreamName: '2026/12/07/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...overrides,
  };
}

export interface HttpEventOptions {
  method?: string;
  path?: string;
  body?: string;
  base64?: boolean;
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

/** An API Gateway HTTP API (payload v2) event, as API Gateway sends it. */
export function httpApiEvent(options: HttpEventOptions = {}): APIGatewayProxyEventV2 {
  const method = options.method ?? 'POST';
  const path = options.path ?? '/';
  const body =
    options.body === undefined || !options.base64
      ? options.body
      : Buffer.from(options.body).toString('base64');
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: {
      'content-type': 'application/json',
      'user-agent': 'handler-tests',
      ...(options.headers ?? {}),
    },
    ...(options.query ? { queryStringParameters: options.query } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'api-id',
      domainName: 'api-id.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'api-id',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'handler-tests' },
      requestId: 'request-1',
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: '07/Dec/2026:03:00:00 +0000',
      timeEpoch: 1_796_612_400_000,
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: Boolean(options.base64),
  };
}

export interface KinesisRecordOptions {
  data: string;
  partitionKey?: string;
  sequenceNumber?: string;
}

/** A Kinesis event-source mapping event: the records' data base64, sequence numbers ascending. */
export function kinesisEvent(records: readonly KinesisRecordOptions[]): KinesisStreamEvent {
  return {
    Records: records.map(
      (r, i): KinesisStreamRecord => ({
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `shardId-000000000000:${r.sequenceNumber ?? String(49_000 + i)}`,
        eventName: 'aws:kinesis:record',
        awsRegion: 'us-east-1',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/handler-tests',
        eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/sr-control-bus',
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: r.partitionKey ?? 'pk-1',
          sequenceNumber: r.sequenceNumber ?? String(49_000 + i),
          approximateArrivalTimestamp: 1_796_612_400,
          data: Buffer.from(r.data).toString('base64'),
        },
      }),
    ),
  };
}

/** A Step Functions Lambda task event: the state's input, as the state machine passes it. */
export const taskEvent = <T>(input: T): T => input;

/** An EventBridge scheduled event. */
export function scheduleEvent() {
  return {
    version: '0',
    id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: '2026-12-07T03:00:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:000000000000:rule/ig-outbox'],
    detail: {},
  };
}

/** What a Step Functions task failure reports: the error's name (ErrorEquals) and message. */
export async function taskFailure(run: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await run;
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error('the task did not fail');
}
