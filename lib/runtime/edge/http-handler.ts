import { parser } from '@aws-lambda-powertools/parser/middleware';
import { APIGatewayProxyEventV2Schema } from '@aws-lambda-powertools/parser/schemas/api-gatewayv2';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { canonicalJson } from '../../contracts/canonical-json.ts';
import { PlatformError } from '../../errors/platform-error.ts';
import {
  type Edge,
  type EdgeHandler,
  type EdgeOptions,
  edgeLogger,
  isParseError,
  parseErrorDetail,
} from './edge-common.ts';

/**
 * The HTTP edge (API Gateway HTTP API payload v2 and function URLs): headers normalised to lower case (middy),
 * base64 bodies decoded, the request parsed by zod (Powertools parser), the core called, its answer written as
 * canonical JSON. A request that fails its schema is a 400 `{error: REASON_CODE, detail}`, never a 500; a
 * PlatformError answers its status with its code (5xx without the detail); anything else is a plain 500.
 */

/** The request a core sees: lower-case header names, the body decoded (and parsed by the handler's body schema). */
export interface HttpRequest<Body = string | undefined> {
  method: string;
  path: string;
  headers: Readonly<Record<string, string | undefined>>;
  query: Readonly<Record<string, string | undefined>>;
  body: Body;
  requestId: string | undefined;
}

/** What a core answers: a status and a body (written as canonical JSON: 64-bit ints stay exact). */
export interface HttpAnswer {
  statusCode: number;
  body: unknown;
}

const Text = z.record(z.string(), z.string().optional());

/**
 * The v2 event fields the edge reads, from Powertools' APIGatewayProxyEventV2Schema; the request context is loose
 * because function URLs and the local cloud (serverless-offline) fill it in only partly (a null query or body, no
 * authorizer claims).
 */
const HttpApiEvent = APIGatewayProxyEventV2Schema.pick({ rawPath: true }).extend({
  body: z.string().nullish(),
  headers: Text.optional(),
  queryStringParameters: Text.nullish(),
  isBase64Encoded: z.boolean().optional(),
  requestContext: z.looseObject({
    requestId: z.string().optional(),
    http: z.looseObject({ method: z.string() }),
  }),
});

/** The schema of a whole HTTP request whose body (decoded text, or undefined) is parsed by `body`. */
export function httpRequestSchema<B extends z.ZodType>(body: B) {
  return HttpApiEvent.transform((event) => ({
    method: event.requestContext.http.method,
    path: event.rawPath,
    headers: event.headers ?? {},
    query: event.queryStringParameters ?? {},
    body:
      event.body === undefined || event.body === null
        ? undefined
        : event.isBase64Encoded
          ? Buffer.from(event.body, 'base64').toString('utf8')
          : event.body,
    requestId: event.requestContext.requestId,
  })).pipe(
    z.object({
      method: z.string(),
      path: z.string(),
      headers: Text,
      query: Text,
      body: body as unknown as z.ZodType<z.output<B>, string | undefined>,
      requestId: z.union([z.string(), z.undefined()]),
    }),
  );
}

/** The body as the core gets it when the core parses it itself (its reason codes for a bad body are its own). */
export const RawBody = z.string().optional();

const json = (statusCode: number, body: unknown): APIGatewayProxyResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: canonicalJson(body),
});

/** An error as middy's http-error-handler renders it: status, exposed, the message is the JSON body (it sets Content-Type). */
function httpError(statusCode: number, code: string, detail: unknown) {
  return Object.assign(new Error(JSON.stringify({ error: code, detail: detail ?? null })), {
    statusCode,
    expose: true,
  });
}

/** The one place an error becomes an HTTP answer. */
export function httpErrorOf(error: unknown, invalidCode = 'REQUEST_INVALID') {
  if (isParseError(error)) return httpError(400, invalidCode, parseErrorDetail(error));
  if (error instanceof PlatformError) {
    const status = error.httpStatus ?? (error.retryable ? 503 : 500);
    return httpError(status, error.code, status < 500 ? (error.detail ?? error.message) : null);
  }
  return error;
}

export interface HttpEdgeOptions extends EdgeOptions {
  /** The reason code of a request that fails its schema (default REQUEST_INVALID). */
  invalid?: string;
}

export function httpHandler<B extends z.ZodType>(
  body: B,
  core: (request: HttpRequest<z.output<B>>, edge: Edge) => Promise<HttpAnswer>,
  options: HttpEdgeOptions,
) {
  const { logger, middleware } = edgeLogger(options.service);
  const handler = middy<unknown, APIGatewayProxyResultV2>()
    .use(middleware)
    .use(
      httpErrorHandler({
        logger: (error: { statusCode?: number }) => {
          if ((error.statusCode ?? 500) >= 500) logger.error('request failed', { error });
        },
        fallbackMessage: JSON.stringify({ error: 'INTERNAL_ERROR', detail: null }),
      }),
    )
    .use(httpHeaderNormalizer())
    .use(parser({ schema: httpRequestSchema(body) }))
    .use({
      onError: (request) => {
        request.error = httpErrorOf(request.error, options.invalid) as Error;
      },
    })
    .handler(async (event, context) => {
      const request = event as unknown as HttpRequest<z.output<B>>;
      if (request.requestId) logger.setCorrelationId(request.requestId);
      const answer = await core(request, { context, logger });
      if (answer.statusCode >= 500) logger.error('request answered with an error', { response: answer.body });
      return json(answer.statusCode, answer.body);
    });
  return handler as unknown as EdgeHandler<APIGatewayProxyResultV2>;
}
