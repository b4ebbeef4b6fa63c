import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { ingestionGate } from '../../lib/adapters/ingestion-gate-dependencies.ts';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { canonicalJson } from '../../lib/contracts/canonical-json.ts';
import { handleRequest } from '../../lib/ingestion-gate/http-api.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { ingestionGateEnvironment } from '../../lib/runtime/ingestion-gate-config.ts';
import { createLogger } from '../../lib/runtime/logger.ts';

const env = platformEnvironment();
const gate = ingestionGate(env, ingestionGateEnvironment(), platformDependencies(env));
const logger = createLogger('ingestion-gate');

/** The IG HTTP API (API Gateway HTTP API, payload v2): push, batch, health, lookup. */
export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> => {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  const response = await handleRequest(
    {
      method: event.requestContext.http.method,
      path: event.rawPath,
      headers,
      query: event.queryStringParameters ?? {},
      body,
    },
    gate.gateway,
  );
  if (response.statusCode >= 500) logger.error('ingestion gate error', { response: response.body });
  return {
    statusCode: response.statusCode,
    headers: { 'content-type': 'application/json' },
    // Receipts carry 64-bit ints (bigint): canonical JSON writes them exactly.
    body: canonicalJson(response.body),
  };
};
