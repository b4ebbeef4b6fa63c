import { GetObjectCommand } from '@aws-sdk/client-s3';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { stackDown, stackUp } from '../../../local/stack.ts';
import { stackConfig } from '../../../local/stack-config.ts';
import { clientsFor } from '../../support/clients.ts';
import { waitForExecution } from '../../support/executions.ts';

const { state, env } = inject('stack');
const { s3, sfn } = clientsFor(state);
const lifecycle = state.stateMachines.find((m) => m.name.endsWith('-run-lifecycle'));
const stateMachineArn = lifecycle?.arn ?? 'missing';

async function run(input: Record<string, unknown>) {
  const start = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  return waitForExecution(sfn, start.executionArn ?? '');
}

describe('run-lifecycle P0 -> P1 on the local cloud', () => {
  afterAll(async () => {
    await stackUp(stackConfig(env), () => undefined); // leave the shared stack whole
  });

  it('pins a fresh platform_run_id, recorded as the active run in Postgres and S3', async () => {
    const done = await run({});
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output ?? '{}');
    expect(output.platform_run_id).toMatch(/^platform_\d{8}T\d{6}Z$/);
    expect(output.phases_completed).toEqual(['P0', 'P1']);

    const db = new pg.Client({ connectionString: state.databaseUrl });
    await db.connect();
    try {
      const active = await db.query('SELECT platform_run_id FROM active_run');
      expect(active.rows[0]?.platform_run_id).toBe(output.platform_run_id);
      const runs = await db.query('SELECT 1 FROM platform_runs WHERE platform_run_id = $1', [
        output.platform_run_id,
      ]);
      expect(runs.rowCount).toBe(1);
    } finally {
      await db.end();
    }
    const pointer = await s3.send(new GetObjectCommand({ Bucket: 'fraud-platform', Key: 'ACTIVE_RUN_ID' }));
    expect((await pointer.Body?.transformToString())?.trim()).toBe(output.platform_run_id);
    const pin = await s3.send(
      new GetObjectCommand({ Bucket: 'fraud-platform', Key: `${output.platform_run_id}/run_pin.json` }),
    );
    expect(JSON.parse((await pin.Body?.transformToString()) ?? '{}').platform_run_id).toBe(
      output.platform_run_id,
    );
  });

  it('refuses a malformed platform_run_id', async () => {
    const done = await run({ platform_run_id: 'platform_20261399T000000Z' });
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('INVALID_PLATFORM_RUN_ID');
    expect(done.cause).toContain('platform_20261399T000000Z');
  });

  it('refuses to re-pin a run id that exists', async () => {
    const first = await run({});
    const id = JSON.parse(first.output ?? '{}').platform_run_id;
    const again = await run({ platform_run_id: id });
    expect(again.status).toBe('FAILED');
    expect(again.error).toBe('RUN_ALREADY_PINNED');
  });

  it('fails P0 with a cause naming Postgres when Postgres is stopped', async () => {
    await stackDown(stackConfig(env), () => undefined, ['postgres']);
    const done = await run({});
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('SUBSTRATE_NOT_READY');
    expect(done.cause).toMatch(/Postgres: unreachable/);
  });
});
