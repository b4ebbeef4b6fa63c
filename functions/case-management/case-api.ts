import { caseApiDependencies } from '../../lib/adapters/case-management-dependencies.ts';
import { handleCaseRequest } from '../../lib/case-management/http-api.ts';
import { caseApiEnvironment } from '../../lib/runtime/case-management-config.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { httpHandler, RawBody } from '../../lib/runtime/edge/http-handler.ts';

const api = caseApiDependencies(platformEnvironment(), caseApiEnvironment());

/**
 * case-api (downstream.md §4.2): `GET /v1/cases?platform_run_id=…` (a page of the run's cases, newest first) and
 * `GET /v1/cases/{case_id}` (the case and its timeline), behind the `X-Case-Api-Key` header.
 */
export const handler = httpHandler(RawBody, (request) => handleCaseRequest(request, api), {
  service: 'case-api',
});
