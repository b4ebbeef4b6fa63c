import { describe, expect, it } from 'vitest';
import { kinesisRequest, lambdaRequest, stepFunctionsRequest } from '../../../local/iam/requests.ts';
import { readsObject, type S3Request, s3Request } from '../../../local/iam/s3-requests.ts';
import { accessKeyOf } from '../../../local/parts/iam-enforcement.ts';

const scope = { region: 'us-east-1', accountId: '000000000000' };
const STREAM = 'arn:aws:kinesis:us-east-1:000000000000:stream';
const STATES = 'arn:aws:states:us-east-1:000000000000';
const FUNCTION = 'arn:aws:lambda:us-east-1:000000000000:function';

describe('the access key a request is signed with', () => {
  it('reads SigV4 headers, presigned queries and SigV2', () => {
    const v4 =
      'AWS4-HMAC-SHA256 Credential=svc-local-gate/20261207/us-east-1/kinesis/aws4_request, Signature=x';
    expect(accessKeyOf({ authorization: v4 }, '/')).toBe('svc-local-gate');
    expect(
      accessKeyOf({}, '/b/k?X-Amz-Credential=svc-local-gate%2F20261207%2Fus-east-1%2Fs3%2Faws4_request'),
    ).toBe('svc-local-gate');
    expect(accessKeyOf({ authorization: 'AWS svc-local-gate:c2lnbmF0dXJl' }, '/')).toBe('svc-local-gate');
    expect(accessKeyOf({}, '/b/k')).toBeUndefined();
  });
});

describe('Kinesis requests → IAM actions', () => {
  const target = (op: string) => `Kinesis_20131202.${op}`;
  it('names the stream by StreamName or StreamARN, the consumer by ConsumerARN', () => {
    expect(
      kinesisRequest(target('PutRecords'), { StreamName: 'fp.bus.audit.v1', Records: [] }, scope),
    ).toEqual([{ action: 'kinesis:PutRecords', resource: `${STREAM}/fp.bus.audit.v1` }]);
    expect(kinesisRequest(target('DescribeStreamSummary'), { StreamARN: `${STREAM}/x` }, scope)).toEqual([
      { action: 'kinesis:DescribeStreamSummary', resource: `${STREAM}/x` },
    ]);
    const consumer = `${STREAM}/x/consumer/c:1`;
    expect(
      kinesisRequest(target('DescribeStreamConsumer'), { ConsumerARN: consumer }, scope)?.[0]?.resource,
    ).toBe(consumer);
  });

  it('asks ListStreams on *, GetRecords on the stream its iterator belongs to', () => {
    expect(kinesisRequest(target('ListStreams'), {}, scope)).toEqual([
      { action: 'kinesis:ListStreams', resource: '*' },
    ]);
    const of = (iterator: string) => (iterator === 'it-1' ? 'sr-control-bus' : undefined);
    expect(kinesisRequest(target('GetRecords'), { ShardIterator: 'it-1' }, scope, of)).toEqual([
      { action: 'kinesis:GetRecords', resource: `${STREAM}/sr-control-bus` },
    ]);
    expect(kinesisRequest(target('GetRecords'), { ShardIterator: 'other' }, scope, of)).toBeUndefined();
    expect(kinesisRequest('Nonsense', {}, scope)).toBeUndefined();
  });
});

describe('Step Functions requests → IAM actions', () => {
  const target = (op: string) => `AWSStepFunctions.${op}`;
  it('names the execution or state machine of the body', () => {
    const machine = `${STATES}:stateMachine:svc-local-stream-run`;
    const execution = `${STATES}:execution:svc-local-stream-run:abc`;
    expect(stepFunctionsRequest(target('StartExecution'), { stateMachineArn: machine }, scope)).toEqual([
      { action: 'states:StartExecution', resource: machine },
    ]);
    expect(stepFunctionsRequest(target('DescribeExecution'), { executionArn: execution }, scope)).toEqual([
      { action: 'states:DescribeExecution', resource: execution },
    ]);
    expect(stepFunctionsRequest(target('ListStateMachines'), {}, scope)).toEqual([
      { action: 'states:ListStateMachines', resource: '*' },
    ]);
    expect(stepFunctionsRequest(target('CreateStateMachine'), { name: 'm' }, scope)?.[0]?.resource).toBe(
      `${STATES}:stateMachine:m`,
    );
    expect(stepFunctionsRequest(target('DescribeExecution'), {}, scope)).toBeUndefined();
  });
});

describe('Lambda requests → IAM actions', () => {
  it('maps Invoke (by name, ARN or with a qualifier), the function reads and the mapping list', () => {
    expect(lambdaRequest('POST', '/2015-03-31/functions/svc-local-double/invocations', scope)).toEqual([
      { action: 'lambda:InvokeFunction', resource: `${FUNCTION}:svc-local-double` },
    ]);
    const arn = encodeURIComponent(`${FUNCTION}:svc-local-double`);
    expect(lambdaRequest('POST', `/2015-03-31/functions/${arn}/invocations?Qualifier=live`, scope)).toEqual([
      { action: 'lambda:InvokeFunction', resource: `${FUNCTION}:svc-local-double:live` },
    ]);
    expect(lambdaRequest('GET', '/2015-03-31/functions/', scope)).toEqual([
      { action: 'lambda:ListFunctions', resource: '*' },
    ]);
    expect(lambdaRequest('GET', '/2015-03-31/functions/f/configuration', scope)?.[0]?.action).toBe(
      'lambda:GetFunctionConfiguration',
    );
    expect(lambdaRequest('GET', '/2015-03-31/event-source-mappings/?FunctionName=f', scope)).toEqual([
      { action: 'lambda:ListEventSourceMappings', resource: '*' },
    ]);
    const mappingArn = 'arn:aws:lambda:us-east-1:000000000000:event-source-mapping:u-1';
    expect(lambdaRequest('GET', '/2015-03-31/event-source-mappings/u-1', scope)).toEqual([
      { action: 'lambda:GetEventSourceMapping', resource: mappingArn },
    ]);
    expect(lambdaRequest('PUT', '/2015-03-31/event-source-mappings/u-1', scope)).toEqual([
      { action: 'lambda:UpdateEventSourceMapping', resource: mappingArn },
    ]);
    expect(lambdaRequest('DELETE', '/2015-03-31/event-source-mappings/u-1', scope)).toBeUndefined();
    expect(lambdaRequest('DELETE', '/2015-03-31/functions/f', scope)).toBeUndefined();
  });
});

describe('S3 requests → IAM actions', () => {
  const req = (
    method: string,
    path: string,
    query: Record<string, unknown> = {},
    headers = {},
  ): S3Request => ({
    method,
    path,
    query,
    headers,
  });
  it.each([
    ['GET object', req('GET', '/b/run/a.json'), 's3:GetObject', 'arn:aws:s3:::b/run/a.json'],
    ['HEAD object', req('HEAD', '/b/run/a.json'), 's3:GetObject', 'arn:aws:s3:::b/run/a.json'],
    ['PUT object', req('PUT', '/b/run/a.json'), 's3:PutObject', 'arn:aws:s3:::b/run/a.json'],
    [
      'an upload part',
      req('PUT', '/b/k', { partNumber: '1', uploadId: 'u' }),
      's3:PutObject',
      'arn:aws:s3:::b/k',
    ],
    ['CreateMultipartUpload', req('POST', '/b/k', { uploads: '' }), 's3:PutObject', 'arn:aws:s3:::b/k'],
    [
      'AbortMultipartUpload',
      req('DELETE', '/b/k', { uploadId: 'u' }),
      's3:AbortMultipartUpload',
      'arn:aws:s3:::b/k',
    ],
    ['DELETE object', req('DELETE', '/b/k'), 's3:DeleteObject', 'arn:aws:s3:::b/k'],
    [
      'ListObjectsV2',
      req('GET', '/b', { 'list-type': '2', prefix: 'run/' }),
      's3:ListBucket',
      'arn:aws:s3:::b',
    ],
    ['ListObjects', req('GET', '/b/'), 's3:ListBucket', 'arn:aws:s3:::b'],
    ['HeadBucket', req('HEAD', '/b'), 's3:ListBucket', 'arn:aws:s3:::b'],
    ['GetBucketLocation', req('GET', '/b', { location: '' }), 's3:GetBucketLocation', 'arn:aws:s3:::b'],
    ['CreateBucket', req('PUT', '/b'), 's3:CreateBucket', 'arn:aws:s3:::b'],
    ['DeleteObjects (every key)', req('POST', '/b', { delete: '' }), 's3:DeleteObject', 'arn:aws:s3:::b/*'],
    ['ListBuckets', req('GET', '/'), 's3:ListAllMyBuckets', '*'],
    ['an encoded key', req('GET', '/b/run%201/a%2Bb.json'), 's3:GetObject', 'arn:aws:s3:::b/run 1/a+b.json'],
  ])('%s → %s on %s', (_, request, action, resource) => {
    expect(s3Request(request)).toEqual([{ action, resource }]);
  });

  it('asks a copy for s3:GetObject on its source as well', () => {
    expect(
      s3Request(req('PUT', '/b/to', {}, { 'x-amz-copy-source': '/src/from%20here?versionId=1' })),
    ).toEqual([
      { action: 's3:PutObject', resource: 'arn:aws:s3:::b/to' },
      { action: 's3:GetObject', resource: 'arn:aws:s3:::src/from here' },
    ]);
  });

  it('knows which requests read one object (a missing key is hidden from callers that may not list)', () => {
    expect(readsObject(req('GET', '/b/k'))).toEqual({ bucketArn: 'arn:aws:s3:::b' });
    expect(readsObject(req('HEAD', '/b/k'))).toEqual({ bucketArn: 'arn:aws:s3:::b' });
    expect(readsObject(req('GET', '/b/k', { tagging: '' }))).toBeUndefined();
    expect(readsObject(req('PUT', '/b/k'))).toBeUndefined();
    expect(readsObject(req('GET', '/b'))).toBeUndefined();
  });
});
