import { labelApiDependencies } from '../../lib/adapters/label-api-dependencies.ts';
import { handleLabelRequest } from '../../lib/case-management/label-api.ts';
import { caseApiEnvironment } from '../../lib/runtime/case-management-config.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { httpHandler, RawBody } from '../../lib/runtime/edge/http-handler.ts';

const api = labelApiDependencies(platformEnvironment(), caseApiEnvironment());

/**
 * label-api (downstream.md §4.2–§4.3): `POST /v1/labels` (a HUMAN or EXTERNAL assertion on a case, recorded as its
 * INVESTIGATOR_ASSERTION and written to the label store) and `GET /v1/labels?platform_run_id=…&event_id=…[&as_of=…]`,
 * behind the case API's `X-Case-Api-Key`.
 */
export const handler = httpHandler(RawBody, (request) => handleLabelRequest(request, api), {
  service: 'label-api',
});
