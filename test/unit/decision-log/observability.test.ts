import { describe, expect, it } from 'vitest';
import { DECISION_LOG_TOPIC, decisionLogStreamId } from '../../../lib/contracts/decision-log.ts';
import { ProjectorReport } from '../../../lib/contracts/projector-report.ts';
import { intakeDecisionLogBatch } from '../../../lib/decision-log/intake.ts';
import {
  type DecisionLogMetrics,
  deriveDecisionLogHealth,
  publishDecisionLogReport,
  DEFAULT_DECISION_LOG_HEALTH_THRESHOLDS as T,
} from '../../../lib/decision-log/observability.ts';
import {
  busRecord,
  decisionEnvelope,
  decisionIdOf,
  intentEnvelope,
  OTHER_RUN,
  pinsOf,
  RUN,
} from './fixtures.ts';
import { memoryPorts } from './in-memory-decision-log-store.ts';

/**
 * §3.4 health rules one at a time (GREEN start, raised to AMBER / RED, RED never lowered), the unresolved-age rule
 * against the clock, and the report the P8 gate reads (documents under `<run>/decision_log_audit/`).
 */

const zero: DecisionLogMetrics = {
  append_success_total: 0,
  append_failure_total: 0,
  accepted_total: 0,
  rejected_total: 0,
  checkpoint_advanced_total: 0,
  candidate_total: 0,
  quarantine_total: 0,
  lineage_resolved_total: 0,
  lineage_unresolved_total: 0,
  replay_divergence_total: 0,
  audit_record_total: 0,
};
const none = { unresolved: 0, olderThanAmberAge: 0, olderThanRedAge: 0 };
const settings = { requiredPlatformRunId: RUN, admittedTopics: [DECISION_LOG_TOPIC] };

describe('decision log health rules', () => {
  it.each([
    ['fresh checkpoint, nothing wrong', zero, none, 5, 'GREEN', []],
    ['no checkpoint', zero, none, null, 'AMBER', ['CHECKPOINT_MISSING']],
    ['checkpoint 120 s old', zero, none, 120, 'AMBER', ['CHECKPOINT_OLD']],
    ['checkpoint 300 s old', zero, none, 300, 'RED', ['CHECKPOINT_TOO_OLD']],
    ['one quarantine', { ...zero, quarantine_total: 1 }, none, 5, 'AMBER', ['QUARANTINE_AMBER']],
    ['25 quarantines', { ...zero, quarantine_total: 25 }, none, 5, 'RED', ['QUARANTINE_RED']],
    ['unresolved, all young', zero, { ...none, unresolved: 30 }, 5, 'GREEN', ['UNRESOLVED_IN_FLIGHT']],
    [
      'one older than 60 s',
      zero,
      { unresolved: 3, olderThanAmberAge: 1, olderThanRedAge: 0 },
      5,
      'AMBER',
      ['UNRESOLVED_AMBER'],
    ],
    [
      '19 older than 240 s',
      zero,
      { unresolved: 19, olderThanAmberAge: 19, olderThanRedAge: 19 },
      5,
      'AMBER',
      ['UNRESOLVED_AMBER'],
    ],
    [
      '20 older than 240 s',
      zero,
      { unresolved: 20, olderThanAmberAge: 20, olderThanRedAge: 20 },
      5,
      'RED',
      ['UNRESOLVED_RED'],
    ],
    ['one append failure', { ...zero, append_failure_total: 1 }, none, 5, 'AMBER', ['APPEND_FAILURE_AMBER']],
    ['five append failures', { ...zero, append_failure_total: 5 }, none, 5, 'RED', ['APPEND_FAILURE_RED']],
    [
      'one replay divergence',
      { ...zero, replay_divergence_total: 1 },
      none,
      5,
      'RED',
      ['REPLAY_DIVERGENCE_RED'],
    ],
  ] as const)('%s ⇒ %s', (_name, metrics, unresolved, checkpointAge, state, reasons) => {
    expect(deriveDecisionLogHealth(metrics, unresolved, checkpointAge, T)).toEqual({ state, reasons });
  });

  it('RED is never lowered by a later AMBER rule', () => {
    const health = deriveDecisionLogHealth({ ...zero, quarantine_total: 1 }, none, 400, T);
    expect(health).toEqual({ state: 'RED', reasons: ['CHECKPOINT_TOO_OLD', 'QUARANTINE_AMBER'] });
  });

  it('an unresolved chain is in flight, AMBER past 60 s; its age counts from when it became unresolved', async () => {
    const { ports, clock } = memoryPorts('2026-12-07T10:00:00.000Z');
    const D = decisionIdOf('aging');
    await intakeDecisionLogBatch(ports, [busRecord(1, intentEnvelope(D))], settings);
    const report = async () =>
      publishDecisionLogReport(
        { storeFor: () => ports.store, documents: { write: async (k) => k }, now: ports.now },
        RUN,
      );
    expect((await report()).health_reasons).toEqual(['UNRESOLVED_IN_FLIGHT']);
    clock.now = new Date('2026-12-07T10:00:59.000Z');
    await intakeDecisionLogBatch(ports, [busRecord(2, decisionEnvelope(D))], settings);
    expect((await report()).health_reasons).toEqual(['UNRESOLVED_IN_FLIGHT']);
    clock.now = new Date('2026-12-07T10:01:01.000Z');
    expect(await report()).toMatchObject({ health_state: 'AMBER', health_reasons: ['UNRESOLVED_AMBER'] });
  });
});

describe('decision log report', () => {
  it('writes the three documents and counts seen / applied / duplicate / skipped / failed', async () => {
    const { ports } = memoryPorts();
    const D = decisionIdOf('report');
    const batch = [
      busRecord(1, decisionEnvelope(D)),
      busRecord(2, decisionEnvelope(decisionIdOf('foreign'), { pins: pinsOf(OTHER_RUN) })),
      busRecord(3, { not: 'an envelope' }),
    ];
    await intakeDecisionLogBatch(ports, batch, settings);
    await intakeDecisionLogBatch(ports, batch.slice(0, 1), settings);
    const written = new Map<string, unknown>();
    const report = await publishDecisionLogReport(
      {
        storeFor: (streamId) => {
          expect(streamId).toBe(decisionLogStreamId(RUN));
          return ports.store;
        },
        documents: {
          write: async (key, document) => {
            written.set(key, document);
            return `s3://fraud-platform/${key}`;
          },
        },
        now: ports.now,
      },
      RUN,
    );
    expect(ProjectorReport.parse(report)).toMatchObject({
      component: 'decision-log',
      counts: { seen: 4, applied: 1, duplicate: 1, skipped: 1, failed: 1 },
      health_state: 'AMBER',
      health_reasons: ['QUARANTINE_AMBER'],
      documents: { health: `s3://fraud-platform/${RUN}/decision_log_audit/health/last_health.json` },
    });
    expect([...written.keys()].sort()).toEqual(
      ['health/last_health', 'metrics/last_metrics', 'reconciliation/last_reconciliation'].map(
        (name) => `${RUN}/decision_log_audit/${name}.json`,
      ),
    );
    const reconciliation = written.get(`${RUN}/decision_log_audit/reconciliation/last_reconciliation.json`);
    expect(reconciliation).toMatchObject({
      health_state: 'AMBER',
      reconciliation: {
        lineage: { resolved_total: 1, unresolved_total: 0 },
        anomaly_lanes: { INVALID_ENVELOPE: 1 },
        recent_attempts: [{ reason_code: 'ACCEPT', write_status: 'DUPLICATE' }, {}, {}, {}],
      },
    });
    expect(written.get(`${RUN}/decision_log_audit/metrics/last_metrics.json`)).toMatchObject({
      metrics: {
        candidate_total: 1,
        quarantine_total: 1,
        append_success_total: 2,
        accepted_total: 2,
        rejected_total: 2,
      },
    });
  });
});
