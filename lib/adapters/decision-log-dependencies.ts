import type { S3Client } from '@aws-sdk/client-s3';
import { canonicalJson } from '../contracts/canonical-json.ts';
import { type AuditRecord, auditRecordEvent, decisionLogStreamId } from '../contracts/decision-log.ts';
import { sha256Hex } from '../contracts/identity.ts';
import type { AuditSink, DecisionLogPorts } from '../decision-log/ports.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import type { DecisionLogEnvironment } from '../runtime/decision-log-config.ts';
import type { ProjectorConfig } from '../runtime/rtdl-config.ts';
import { postgresDecisionLogStore } from './decision-log-stores.ts';
import { ingestionGateBatchPublisher, type PublisherSettings } from './ingestion-gate-publisher.ts';
import { configuredSecret, ssmSecrets } from './parameters.ts';
import { projectorDependencies } from './projector-dependencies.ts';
import { putObjectOnce, s3Uri } from './s3-objects.ts';

/**
 * What the decision-log function reaches: its Postgres store, and the audit sink — the batch's new audit records as
 * one write-once JSON-lines segment in the platform bucket (`<run>/decision_log_audit/segments/<digest>.jsonl`, named
 * by its content so a retried batch writes the same object), each record's byte range in its audit event, and the
 * events published on fp.bus.audit.v1 through IG's batch route (producer decision_log). One PUT per batch, not per
 * decision. The sink runs inside the batch's transaction: if S3 or IG fails, nothing of the batch is committed and the
 * mapping retries it.
 */

export function s3AuditSink(
  s3: S3Client,
  bucket: string,
  publish: (envelopes: ReturnType<typeof auditRecordEvent>[]) => Promise<unknown>,
): AuditSink {
  return {
    async append(records: readonly AuditRecord[]) {
      if (records.length === 0) return;
      const sorted = [...records].sort((a, b) =>
        a.audit_id < b.audit_id ? -1 : a.audit_id > b.audit_id ? 1 : 0,
      );
      const lines = sorted.map((r) => Buffer.from(`${canonicalJson(r)}\n`, 'utf8'));
      const body = Buffer.concat(lines);
      const run = sorted[0]?.pins.platform_run_id ?? '_no_platform_run';
      const key = `${run}/decision_log_audit/segments/${sha256Hex(body).slice(0, 32)}.jsonl`;
      await putObjectOnce(s3, bucket, key, body, 'application/x-ndjson');
      let offset = 0;
      const events = sorted.map((record, i) => {
        const length = lines[i]?.length ?? 0;
        const ref = `${s3Uri(bucket, key)}#bytes=${offset}-${offset + length - 1}`;
        offset += length;
        return auditRecordEvent(record, ref);
      });
      await publish(events);
    },
  };
}

export function decisionLogDependencies(
  env: PlatformEnvironment,
  dla: DecisionLogEnvironment,
  config: ProjectorConfig,
  publishSettings: Pick<PublisherSettings, 'timeoutMs' | 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs'>,
) {
  const deps = projectorDependencies(env, config);
  const publisher = ingestionGateBatchPublisher({
    url: dla.igUrl,
    apiKey: configuredSecret(ssmSecrets(deps.endpoints), {
      plain: dla.igApiKey,
      parameter: dla.igApiKeySsmParameter,
      what: 'DECISION_LOG_IG_API_KEY_SSM_PARAMETER',
    }),
    ...publishSettings,
  });
  const auditSink = s3AuditSink(deps.s3, env.PLATFORM_BUCKET, (events) => publisher.publish(events));
  return {
    ...deps,
    async portsFor(): Promise<{ platformRunId: string; ports: DecisionLogPorts }> {
      const scope = await deps.runScope('dla.v0');
      return {
        platformRunId: scope.platformRunId,
        ports: {
          store: postgresDecisionLogStore(await deps.pool(), decisionLogStreamId(scope.platformRunId)),
          auditSink,
          now: () => new Date(),
        },
      };
    },
    storeFor: async (streamId: string) => postgresDecisionLogStore(await deps.pool(), streamId),
  };
}
