import { describe, expect, it } from 'vitest';
import { routeOf, signedService } from '../../../local/parts/edge-routing.ts';

const signed = (service: string) =>
  `AWS4-HMAC-SHA256 Credential=test/20261207/us-east-1/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc`;

describe('edge routing (which local part an AWS request is for)', () => {
  it('reads the service from the SigV4 credential scope, in the header or a presigned query', () => {
    expect(signedService({ method: 'GET', url: '/b/k', headers: { authorization: signed('s3') } })).toBe(
      's3',
    );
    expect(
      signedService({
        method: 'GET',
        url: '/b/k?X-Amz-Credential=test%2F20261207%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=x',
        headers: {},
      }),
    ).toBe('s3');
    expect(signedService({ method: 'GET', url: '/', headers: {} })).toBeUndefined();
  });

  it.each([
    [
      'a Kinesis JSON call',
      { 'x-amz-target': 'Kinesis_20131202.GetRecords', authorization: signed('kinesis') },
      '/',
      'kinesis',
    ],
    ['a Step Functions JSON call', { 'x-amz-target': 'AWSStepFunctions.ListExecutions' }, '/', 'sfn'],
    ['an S3 call', { authorization: signed('s3') }, '/fraud-platform?list-type=2', 's3'],
    ['a Lambda invoke', { authorization: signed('lambda') }, '/2015-03-31/functions/f/invocations', 'lambda'],
    [
      'a Lambda mapping call',
      { authorization: signed('lambda') },
      '/2015-03-31/event-source-mappings/?FunctionName=f',
      'esm',
    ],
    ['an unsigned Lambda call', {}, '/2015-03-31/functions/', 'lambda'],
    ['an unsigned bucket call', {}, '/fraud-platform/key.json', 's3'],
  ])('%s goes to %s', (_, headers, url, part) => {
    expect(routeOf({ method: 'POST', url, headers })).toBe(part);
  });
});
