import type { SdkCommand } from './model.ts';

/**
 * The IAM actions an SDK v3 command needs. The action is the command's name less `Command`, prefixed by the
 * client's service, except where IAM names it otherwise (below). For S3 the resource kind matters too: bucket
 * actions are granted on `arn:aws:s3:::bucket`, object actions on `arn:aws:s3:::bucket/key`.
 *
 * Kept simple on purpose: GetObjectAttributes needs s3:GetObjectAttributes only (not the versioned variant);
 * lib-storage's Upload sends PutObject or the multipart commands, which IAM authorises as s3:PutObject, plus
 * s3:AbortMultipartUpload when it gives up.
 */

export type ResourceKind = 'bucket' | 'object' | 'any';

export interface RequiredAction {
  action: string;
  kind: ResourceKind;
}

const SERVICE_PREFIX: Record<string, string> = {
  'client-s3': 's3',
  'client-kinesis': 'kinesis',
  'client-sfn': 'states',
  'client-lambda': 'lambda',
  'client-ssm': 'ssm',
  'client-sts': 'sts',
  'client-cloudwatch': 'cloudwatch',
  'client-cloudwatch-logs': 'logs',
  'client-dynamodb': 'dynamodb',
  'client-secrets-manager': 'secretsmanager',
  'client-sqs': 'sqs',
  'client-sns': 'sns',
  'client-eventbridge': 'events',
  'client-kms': 'kms',
};

/** Command (without `Command`) → IAM action names, where they differ from the command's. */
const ACTION_EXCEPTIONS: Record<string, Record<string, string[]>> = {
  s3: {
    ListObjectsV2: ['ListBucket'],
    ListObjects: ['ListBucket'],
    HeadBucket: ['ListBucket'],
    HeadObject: ['GetObject'],
    DeleteObjects: ['DeleteObject'],
    ListObjectVersions: ['ListBucketVersions'],
    ListMultipartUploads: ['ListBucketMultipartUploads'],
    ListParts: ['ListMultipartUploadParts'],
    CopyObject: ['GetObject', 'PutObject'],
    UploadPartCopy: ['GetObject', 'PutObject'],
    CreateMultipartUpload: ['PutObject'],
    UploadPart: ['PutObject'],
    CompleteMultipartUpload: ['PutObject'],
  },
  lambda: { Invoke: ['InvokeFunction'], InvokeWithResponseStream: ['InvokeFunction'] },
};

/** lib-storage's `Upload` sends these commands. */
export const UPLOAD_COMMANDS = [
  'PutObjectCommand',
  'CreateMultipartUploadCommand',
  'UploadPartCommand',
  'CompleteMultipartUploadCommand',
  'AbortMultipartUploadCommand',
];

export function servicePrefixOf(client: string): string {
  const name = client.replace(/^@aws-sdk\//, '');
  return SERVICE_PREFIX[name] ?? name.replace(/^client-/, '').replaceAll('-', '');
}

function s3Kind(action: string): ResourceKind {
  return /Bucket|^ListAllMyBuckets$/.test(action) ? 'bucket' : 'object';
}

/** The actions one command needs; lib-storage's Upload expands to the commands it sends. */
export function requiredActions(command: SdkCommand): RequiredAction[] {
  if (command.client === '@aws-sdk/lib-storage' && command.command === 'Upload')
    return UPLOAD_COMMANDS.flatMap((c) => requiredActions({ client: '@aws-sdk/client-s3', command: c }));
  const service = servicePrefixOf(command.client);
  const name = command.command.replace(/Command$/, '');
  const actions = ACTION_EXCEPTIONS[service]?.[name] ?? [name];
  return actions.map((action) => ({
    action: `${service}:${action}`,
    kind: service === 's3' ? s3Kind(action) : 'any',
  }));
}
