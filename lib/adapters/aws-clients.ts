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
  /**
   * The access key id to sign with where an endpoint is set: a Lambda's own (its AWS_ACCESS_KEY_ID, which names
   * its role under the local cloud, so the local services hold it to that role). Unused on AWS.
   */
  accessKeyId?: string | undefined;
}

/**
 * Credentials the local emulators accept: the caller's access key id, else s3rver's well-known `S3RVER`; no
 * signature is checked locally, so the secret is a placeholder. On AWS the default provider chain is used.
 */
const LOCAL_SECRET = 'S3RVER';

function base(e: AwsEndpoints, endpoint: string | undefined) {
  return endpoint === undefined
    ? { region: e.region }
    : {
        region: e.region,
        endpoint,
        credentials: { accessKeyId: e.accessKeyId ?? 'S3RVER', secretAccessKey: LOCAL_SECRET },
      };
}

export function s3Client(e: AwsEndpoints): S3Client {
  return new S3Client({ ...base(e, e.s3), forcePathStyle: e.s3 !== undefined });
}

export function kinesisClient(e: AwsEndpoints): KinesisClient {
  // kinesalite speaks HTTP/1.1 only; the SDK's default HTTP/2 handler fails against it.
  return e.kinesis === undefined
    ? new KinesisClient({ region: e.region })
    : new KinesisClient({ ...base(e, e.kinesis), requestHandler: new NodeHttpHandler() });
}

export function sfnClient(e: AwsEndpoints): SFNClient {
  return new SFNClient(base(e, e.sfn));
}

export function lambdaClient(e: AwsEndpoints): LambdaClient {
  return new LambdaClient(base(e, e.lambda));
}

export function ssmClient(e: AwsEndpoints): SSMClient {
  return new SSMClient(base(e, e.ssm));
}
