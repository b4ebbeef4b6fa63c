import { ingestionGate } from '../../lib/adapters/ingestion-gate-dependencies.ts';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { handleRequest } from '../../lib/ingestion-gate/http-api.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { httpHandler, RawBody } from '../../lib/runtime/edge/http-handler.ts';
import { ingestionGateEnvironment } from '../../lib/runtime/ingestion-gate-config.ts';

const env = platformEnvironment();
const gate = ingestionGate(env, ingestionGateEnvironment(), platformDependencies(env));

/**
 * The IG HTTP API (API Gateway HTTP API, payload v2): push, batch, health, lookup. The gate parses the body itself
 * (its own reason codes: INVALID_JSON, NOT_AN_ENVELOPE, PAYLOAD_TOO_LARGE).
 */
export const handler = httpHandler(RawBody, (request) => handleRequest(request, gate.gateway), {
  service: 'ingestion-gate',
});
