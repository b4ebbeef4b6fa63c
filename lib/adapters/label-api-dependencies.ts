import { LABEL_READER_PRINCIPAL, type LabelApiDependencies } from '../case-management/label-api.ts';
import { authenticate } from '../ingestion-gate/auth.ts';
import { labelAsOf, labelsOfEvent } from '../label-store/reads.ts';
import { writeLabelAssertion } from '../label-store/writer.ts';
import type { CaseApiEnvironment } from '../runtime/case-management-config.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import { apiKeysLoader } from './api-keys.ts';
import { postgresCaseStore } from './case-management-stores.ts';
import { postgresLabelStore } from './label-store-stores.ts';
import { platformDependencies } from './platform-dependencies.ts';

/**
 * The label API's dependencies, wired once at cold start: the case API's keys (env or SSM, compared in constant time
 * as IG does; a bare key is the reader's), and on one Postgres pool the case store (a case and its timeline, the
 * INVESTIGATOR_ASSERTION append) and the label store's writer and reads in process (case management's core knows
 * only its ports).
 */
export function labelApiDependencies(
  env: PlatformEnvironment,
  api: CaseApiEnvironment,
): LabelApiDependencies {
  const deps = platformDependencies(env);
  const keys = apiKeysLoader(deps.endpoints, api.apiKeys, api.apiKeysSsmParameter, LABEL_READER_PRINCIPAL);
  const clock = { now: () => new Date() };
  return {
    async principalOf(key) {
      return authenticate({ 'x-ig-api-key': key }, await keys())?.principal;
    },
    async ports() {
      const pool = await deps.pool();
      const labels = postgresLabelStore(pool);
      return {
        cases: postgresCaseStore(pool),
        labels: { write: (input) => writeLabelAssertion(labels, input) },
        reads: {
          labelsOfEvent: (subject) => labelsOfEvent(labels, subject.platform_run_id, subject.event_id),
          labelAsOf: (subject, labelType, asOf) => labelAsOf(labels, subject, labelType, asOf),
        },
        clock,
      };
    },
  };
}
