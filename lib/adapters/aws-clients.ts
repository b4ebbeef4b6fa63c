import { KinesisClient } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Where the AWS services are. Endpoints are set for the local cloud and LocalStack, absent on AWS. */
export interface AwsEndpoints {
  region: string;
  s3?: string | undefined;
  kinesis?: string | undefined;
  sfn?: string | undefined;
  lambda?: string | undefined;
  ssm?: string | undefined;
}

/**
 * Credentials the local emulators accept. s3rver checks signatures against its built-in account,
 * so this is its well-known pair; no real secret. On AWS the default provider chain is used.
 */
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

function base(region: string, endpoint: string | undefined) {
  return endpoint === undefined ? { region } : { region, endpoint, credentials: LOCAL_CREDENTIALS };
}

export function s3Client(e: AwsEndpoints): S3Client {
  return new S3Client({ ...base(e.region, e.s3), forcePathStyle: e.s3 !== undefined });
}

export function kinesisClient(e: AwsEndpoints): KinesisClient {
  // kinesalite speaks HTTP/1.1 only; the SDK's default HTTP/2 handler fails against it.
  return e.kinesis === undefined
    ? new KinesisClient({ region: e.region })
    : new KinesisClient({ ...base(e.region, e.kinesis), requestHandler: new NodeHttpHandler() });
}

export function sfnClient(e: AwsEndpoints): SFNClient {
  return new SFNClient(base(e.region, e.sfn));
}

export function lambdaClient(e: AwsEndpoints): LambdaClient {
  return new LambdaClient(base(e.region, e.lambda));
}

export function ssmClient(e: AwsEndpoints): SSMClient {
  return new SSMClient(base(e.region, e.ssm));
}
