import { describe, expect, it } from 'vitest';
import { takeInCaseTriggers } from '../../../lib/case-management/intake.ts';
import {
  CASE_MANAGEMENT_METRICS,
  caseManagementHealth,
  publishCaseManagementReport,
} from '../../../lib/case-management/observability.ts';
import {
  caseApiEnvironment,
  caseManagementEnvironment,
} from '../../../lib/runtime/case-management-config.ts';
import {
  caseRecord,
  RUN,
  scriptedWriter,
  steppingClock,
  triggerEnvelope,
  triggerPayload,
} from './factories.ts';
import { memoryCaseStore } from './memory-store.ts';

/** Case management's health rules, its report documents, and its environment. */

describe('case management health', () => {
  it.each([
    [{}, 'GREEN', []],
    [{ payload_mismatches: 1 }, 'AMBER', ['ANOMALIES_AMBER']],
    [{ quarantined: 9 }, 'AMBER', ['ANOMALIES_AMBER']],
    [{ quarantined: 4, payload_mismatches: 6 }, 'RED', ['ANOMALIES_RED']],
    [{ labels_pending: 9 }, 'GREEN', []],
    [{ labels_pending: 10 }, 'AMBER', ['PENDING_LABELS_AMBER']],
    [{ labels_pending: 50 }, 'RED', ['PENDING_LABELS_RED']],
    [{ labels_pending: 10, quarantined: 10 }, 'RED', ['ANOMALIES_RED', 'PENDING_LABELS_AMBER']],
    [{ labels_pending: 50, quarantined: 1 }, 'RED', ['ANOMALIES_AMBER', 'PENDING_LABELS_RED']],
  ])('%j ⇒ %s %j', (counts, state, reasons) => {
    expect(caseManagementHealth(counts)).toMatchObject({ health_state: state, health_reasons: reasons });
  });

  it('the report writes the run’s metrics and health documents and answers its counts', async () => {
    const memory = memoryCaseStore();
    const written = new Map<string, unknown>();
    const documents = {
      write: async (key: string, document: unknown) => {
        written.set(key, document);
        return `s3://fraud-platform/${key}`;
      },
    };
    const ports = { store: memory.store, labels: scriptedWriter().writer, clock: steppingClock() };
    const trigger = triggerPayload('evt-1');
    const record = caseRecord(triggerEnvelope(trigger));
    await takeInCaseTriggers([record, record], ports, { requiredPlatformRunId: RUN });

    const report = await publishCaseManagementReport(
      { store: memory.store, documents, clock: ports.clock },
      RUN,
    );
    expect(report).toMatchObject({
      component: 'case-management',
      platform_run_id: RUN,
      stream_id: `case_mgmt.v0::${RUN}`,
      counts: { applied: 1, duplicate: 1, skipped: 0, failed: 0 },
      health_state: 'GREEN',
      documents: {
        metrics: `s3://fraud-platform/${RUN}/case_mgmt/metrics/last_metrics.json`,
        health: `s3://fraud-platform/${RUN}/case_mgmt/health/last_health.json`,
      },
    });
    const metrics = written.get(`${RUN}/case_mgmt/metrics/last_metrics.json`) as {
      metrics: Record<string, number>;
    };
    expect(Object.keys(metrics.metrics)).toEqual([...CASE_MANAGEMENT_METRICS]);
    expect(metrics.metrics).toMatchObject({
      case_triggers: 1,
      cases_created: 1,
      labels_accepted: 1,
      duplicates: 1,
    });
    expect(written.get(`${RUN}/case_mgmt/health/last_health.json`)).toMatchObject({ health_state: 'GREEN' });
  });
});

describe('case management environment', () => {
  it('the worker: the run-scope gate (empty: the active run) and the retry batch', () => {
    expect(caseManagementEnvironment({})).toEqual({ requiredPlatformRunId: undefined, retryBatch: 500 });
    expect(
      caseManagementEnvironment({
        CASE_MANAGEMENT_REQUIRED_PLATFORM_RUN_ID: RUN,
        CASE_MANAGEMENT_RETRY_BATCH: '20',
      }),
    ).toEqual({ requiredPlatformRunId: RUN, retryBatch: 20 });
    expect(() => caseManagementEnvironment({ CASE_MANAGEMENT_REQUIRED_PLATFORM_RUN_ID: 'run-1' })).toThrow(
      /CASE_MANAGEMENT_REQUIRED_PLATFORM_RUN_ID/,
    );
    expect(() => caseManagementEnvironment({ CASE_MANAGEMENT_RETRY_BATCH: '0' })).toThrow(
      /CASE_MANAGEMENT_RETRY_BATCH/,
    );
  });

  it('the API: keys from the environment or SSM, one of them required', () => {
    expect(caseApiEnvironment({ CASE_API_KEYS: 'operator=k' })).toEqual({
      apiKeys: 'operator=k',
      apiKeysSsmParameter: undefined,
    });
    expect(
      caseApiEnvironment({
        CASE_API_KEYS: '',
        CASE_API_KEYS_SSM_PARAMETER: '/fraud-platform/dev/case-api-keys',
      }),
    ).toEqual({
      apiKeys: '',
      apiKeysSsmParameter: '/fraud-platform/dev/case-api-keys',
    });
    expect(() => caseApiEnvironment({ CASE_API_KEYS: ' ', CASE_API_KEYS_SSM_PARAMETER: '' })).toThrow(
      /CASE_API_KEYS/,
    );
  });
});
