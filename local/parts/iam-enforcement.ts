import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { KoaLikeContext as Ctx } from 's3rver';
import { z } from 'zod';
import { type ActionRequest, decide, firstRefusal, LocalRole } from '../iam/policy.ts';
import { kinesisRequest, lambdaRequest, type Scope, stepFunctionsRequest } from '../iam/requests.ts';
import { readsObject, type S3Request, s3Request } from '../iam/s3-requests.ts';
import { xmlError } from './s3-conditional-writes.ts';

/**
 * The functions' roles, enforced on the calls they make. Each local Lambda signs with an access key id that names
 * its role (serverless-offline gives it `AWS_ACCESS_KEY_ID`, plugins/offline-identities.cjs); a request signed by
 * such a key is mapped to the IAM action and resource AWS would authorise (local/iam/) and refused, as that service
 * answers AccessDenied, unless the role's statements allow it. Any other key (`test`, `S3RVER`: people, tests, the
 * local cloud's own parts) is not a role and is let through, as an administrator.
 *
 * The roles come from the stack's service file, read again whenever it changes: S3 and Kinesis start before it is
 * written, and keep running across a restart of the compute parts.
 */

export interface IamTable extends Scope {
  roles: Map<string, LocalRole>;
}

const ServiceRoles = z.looseObject({
  region: z.string(),
  accountId: z.string(),
  roles: z.array(LocalRole).default([]),
});

/** The role table of the service file (PART_SERVICE_FILE), or undefined while there is none. */
export function serviceIam(file = process.env.PART_SERVICE_FILE): () => IamTable | undefined {
  let cached: { mtimeMs: number; table: IamTable } | undefined;
  return () => {
    if (!file) return undefined;
    let mtimeMs: number;
    try {
      mtimeMs = fs.statSync(file).mtimeMs;
    } catch {
      return undefined;
    }
    if (cached?.mtimeMs !== mtimeMs) {
      let parsed: z.infer<typeof ServiceRoles>;
      try {
        parsed = ServiceRoles.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
      } catch {
        return cached?.table; // being written: the last one read, until it is whole
      }
      const roles = new Map(parsed.roles.map((r) => [r.name, r]));
      cached = { mtimeMs, table: { region: parsed.region, accountId: parsed.accountId, roles } };
    }
    return cached.table;
  };
}

type Headers = IncomingMessage['headers'];

/** The access key id a request is signed with: SigV4 (header or presigned query) or SigV2. */
export function accessKeyOf(headers: Headers, url: string): string | undefined {
  const auth = headers.authorization ?? '';
  const v4 = /Credential=([^/,\s]+)\//.exec(auth)?.[1];
  if (v4) return v4;
  const v2 = /^AWS ([^:\s]+):/.exec(auth)?.[1];
  if (v2) return v2;
  if (!url.includes('?')) return undefined;
  const query = new URLSearchParams(url.slice(url.indexOf('?') + 1));
  return query.get('X-Amz-Credential')?.split('/')[0] ?? query.get('AWSAccessKeyId') ?? undefined;
}

/** The role a request acts as, when its key names one. */
export function callerRole(
  iam: () => IamTable | undefined,
  headers: Headers,
  url: string,
): { role: LocalRole; table: IamTable } | undefined {
  const key = accessKeyOf(headers, url);
  const table = key === undefined ? undefined : iam();
  const role = key === undefined ? undefined : table?.roles.get(key);
  return role && table ? { role, table } : undefined;
}

function logRefusal(message: string): void {
  console.log(JSON.stringify({ at: new Date().toISOString(), iam: 'refused', message }));
}

/** AWS's refusal text for the requests, or undefined when the role may make them all. */
export function refusalOf(
  role: LocalRole,
  table: IamTable,
  requests: ActionRequest[] | undefined,
  what: string,
): string | undefined {
  const user = `arn:aws:sts::${table.accountId}:assumed-role/${role.name}/${role.name}`;
  const message = requests
    ? firstRefusal(role, requests, table.accountId)?.message
    : `User: ${user} is not authorized to perform ${what}: the local cloud cannot tell which IAM action and resource it needs`;
  // The part's log names every refusal (a function's error may not carry it to where it is seen).
  if (message !== undefined) logRefusal(message);
  return message;
}

function answerJson(res: ServerResponse, status: number, type: string, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(text),
    'x-amzn-errortype': 'AccessDeniedException',
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

/** A copy of the request whose body can be read again. */
function replayed(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = Readable.from(body.length > 0 ? [body] : []);
  return Object.assign(copy, {
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    socket: req.socket,
  }) as unknown as IncomingMessage;
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface JsonGuardOptions {
  protocol: 'kinesis' | 'states';
  iam: () => IamTable | undefined;
  /** Kinesis GetRecords: the stream a shard iterator belongs to. */
  streamOfIterator?: (iterator: string) => string | undefined;
}

/**
 * Wraps the request listener of an AWS JSON-protocol part (Kinesis, Step Functions): a request signed by a role is
 * read, checked, and passed on with its body, or answered AccessDeniedException (HTTP 400) as that service does.
 */
export function guardJsonProtocol(options: JsonGuardOptions, next: RequestListener): RequestListener {
  return (req, res) => {
    const caller = callerRole(options.iam, req.headers, req.url ?? '/');
    if (!caller) return next(req, res);
    bodyOf(req)
      .then((body) => {
        const target = String(req.headers['x-amz-target'] ?? '');
        let parsed: Record<string, unknown> = {};
        try {
          const value: unknown = JSON.parse(body.toString('utf8') || '{}');
          if (value && typeof value === 'object') parsed = value as Record<string, unknown>;
        } catch {
          // not JSON (CBOR, or garbage): nothing names the resource
        }
        const requests =
          options.protocol === 'kinesis'
            ? kinesisRequest(target, parsed, caller.table, options.streamOfIterator)
            : stepFunctionsRequest(target, parsed, caller.table);
        const refusal = refusalOf(caller.role, caller.table, requests, target || 'this request');
        if (refusal === undefined) return next(replayed(req, body), res);
        const type =
          options.protocol === 'kinesis' ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0';
        answerJson(res, 400, type, { __type: 'AccessDeniedException', message: refusal });
      })
      .catch((error: unknown) => res.destroy(error as Error));
  };
}

/**
 * Lambda's REST API (the edge, the event-source-mapping API): true when the request was refused and answered
 * 403 AccessDeniedException, as Lambda does.
 */
export function refuseLambda(
  iam: () => IamTable | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  const url = req.url ?? '/';
  const caller = callerRole(iam, req.headers, url);
  if (!caller) return false;
  const method = req.method ?? 'GET';
  const requests = lambdaRequest(method, url, caller.table);
  const refusal = refusalOf(caller.role, caller.table, requests, `${method} ${url.split('?')[0]}`);
  if (refusal === undefined) return false;
  req.resume();
  answerJson(res, 403, 'application/json', { Type: 'User', Message: refusal, message: refusal });
  return true;
}

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * s3rver middleware, before any other: a role's request is answered 403 AccessDenied unless its statements allow
 * it; a role that may read an object but not list its bucket gets 403 AccessDenied, not 404 NoSuchKey, for a
 * missing key, as S3 answers.
 */
export function enforceS3Iam(iam: () => IamTable | undefined = serviceIam()) {
  return async (ctx: Ctx, next: () => Promise<unknown>): Promise<unknown> => {
    const caller = callerRole(iam, ctx.req.headers, ctx.req.url ?? '/');
    if (!caller) return next();
    const request: S3Request = {
      method: ctx.method,
      path: ctx.path,
      query: ctx.query,
      headers: ctx.req.headers,
    };
    const refusal = refusalOf(caller.role, caller.table, s3Request(request), `${ctx.method} ${ctx.path}`);
    if (refusal !== undefined) return xmlError(ctx, 403, 'AccessDenied', xmlText(refusal));
    const read = readsObject(request);
    const mayList =
      read && decide(caller.role, { action: 's3:ListBucket', resource: read.bucketArn }) === 'allowed';
    if (!read || mayList) return next();
    try {
      await next();
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'NoSuchKey') throw error;
      logRefusal(`${caller.role.name}: ${ctx.method} ${ctx.path} of a missing key without s3:ListBucket`);
      return xmlError(ctx, 403, 'AccessDenied', 'Access Denied');
    }
    return undefined;
  };
}
