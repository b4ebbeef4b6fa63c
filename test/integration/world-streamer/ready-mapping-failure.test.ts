import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { platformRunIdAt } from '../../../lib/contracts/platform-run.ts';
import type { WorldSummary } from '../../../tools/world/generate.ts';
import { clientsFor } from '../../support/clients.ts';
import { eventually } from '../../support/eventually.ts';
import { PLATFORM_BUCKET, publishReady, readyFor } from '../../support/world-streamer.ts';

/**
 * The READY mapping's failure handling (serverless.yml: maximumRetryAttempts 5, maximumRecordAgeInSeconds 3600,
 * bisect, on-failure destination = the platform bucket). A READY that fails on every delivery — here its claim
 * in Postgres raises, through a trigger this test installs for that one message_id — must not block the control
 * bus: after the retries its failure record lands in the platform bucket, and a READY published after it is
 * handled.
 */

const { state } = inject('stack');
const { s3, kinesis } = clientsFor(state);
const pool = new pg.Pool({ connectionString: state.databaseUrl, max: 2 });
const stamp = Date.now() - 500 * 3_600_000 - Math.floor(Math.random() * 1000) * 1000;
const PRID = platformRunIdAt(new Date(stamp));
const SCENARIO_RUN = sha256Hex(`ready-mapping-failure|${stamp}`).slice(0, 32);
// Only the strings of a world and pack are read on this path: neither READY gets as far as streaming.
const oracle = {
  world: {
    manifestFingerprint: 'c'.repeat(64),
    parameterHash: 'd'.repeat(64),
    seed: 7n,
    scenarioId: 'baseline_v1',
  } as unknown as WorldSummary,
  engineRunRoot: 's3://oracle-store/engine-runs/ready-mapping-failure',
  oraclePackId: 'e'.repeat(64),
};
const fixture = (label: string) =>
  readyFor({
    platformRunId: PRID,
    scenarioRunId: SCENARIO_RUN,
    oracle,
    bundleHash: sha256Hex(`ready-mapping-failure|${label}|${stamp}`),
  });

interface FailureRecord {
  requestContext: { condition: string; approximateInvokeCount: number };
  KinesisBatchInfo: { startSequenceNumber: string; batchSize: number };
  payload: string;
}

/** The failure records in the platform bucket whose batch holds a READY with this message_id. */
async function failureRecordsOf(messageId: string): Promise<FailureRecord[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: PLATFORM_BUCKET, Prefix: 'aws/lambda/' }));
  const records = await Promise.all(
    (listed.Contents ?? []).map(async (o) => {
      const got = await s3.send(new GetObjectCommand({ Bucket: PLATFORM_BUCKET, Key: o.Key }));
      return JSON.parse((await got.Body?.transformToString()) ?? '{}') as FailureRecord;
    }),
  );
  return records.filter((f) => {
    const event = JSON.parse(f.payload ?? '{}') as { Records?: Array<{ kinesis: { data: string } }> };
    return (event.Records ?? []).some((r) =>
      Buffer.from(r.kinesis.data, 'base64').toString('utf8').includes(messageId),
    );
  });
}

async function claimed(messageId: string): Promise<boolean> {
  const r = await pool.query('SELECT 1 FROM wsp_ready_runs WHERE message_id = $1', [messageId]);
  return r.rowCount === 1;
}

describe('READY mapping: a record that keeps failing goes to the failure destination', () => {
  afterAll(async () => {
    await pool.query('DROP TRIGGER IF EXISTS ready_mapping_failure_test ON wsp_ready_runs');
    await pool.query('DROP FUNCTION IF EXISTS ready_mapping_failure_test()');
    await pool.end();
  });

  it('retries it, writes its failure record to the platform bucket, and handles the next READY', async () => {
    const poison = fixture('poison');
    await pool.query(`CREATE OR REPLACE FUNCTION ready_mapping_failure_test() RETURNS trigger AS $$
      BEGIN
        IF NEW.message_id = '${poison.ready.message_id}' THEN
          RAISE EXCEPTION 'ready-mapping-failure test: this READY fails on every delivery';
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await pool.query(`CREATE TRIGGER ready_mapping_failure_test BEFORE INSERT ON wsp_ready_runs
      FOR EACH ROW EXECUTE FUNCTION ready_mapping_failure_test()`);

    await publishReady(s3, kinesis, poison);
    const [failure] = await eventually(
      async () => {
        const found = await failureRecordsOf(poison.ready.message_id);
        return found.length > 0 ? found : undefined;
      },
      'the failure record of the READY that keeps failing',
      120_000,
    );
    // 1 delivery + 5 retries, then the destination; the READY was never claimed.
    expect(failure?.requestContext).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 6,
    });
    expect(await claimed(poison.ready.message_id)).toBe(false);

    const next = fixture('next');
    await publishReady(s3, kinesis, next);
    await eventually(
      async () => ((await claimed(next.ready.message_id)) ? true : undefined),
      'the READY after it claimed',
      60_000,
    );
  }, 240_000);
});
