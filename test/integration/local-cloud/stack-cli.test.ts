import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { freePort, isAlive } from '../../../local/processes.ts';
import { runScript } from '../../support/cli.ts';
import { eventually } from '../../support/eventually.ts';
import { testStackEnv } from '../../support/test-stack.ts';

const { env } = inject('stack');
const pidOf = (part: string) =>
  JSON.parse(fs.readFileSync(path.join(env.LOCAL_CLOUD_DIR ?? '', 'pids', `${part}.pid.json`), 'utf8'))
    .pid as number;

describe('stack CLI', () => {
  it('status --json lists every part healthy and exits 0', async () => {
    const r = await runScript('local/cli.ts', ['status', '--json'], env);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body.parts.map((p: { name: string }) => p.name)).toEqual([
      'postgres',
      'kinesis',
      's3',
      'lambda',
      'step-functions',
      'esm-poller',
      'edge',
    ]);
    for (const p of body.parts) {
      expect(p).toMatchObject({ healthy: true });
      expect(typeof p.endpoint).toBe('string');
    }
  });

  it('up on a running stack is a no-op', async () => {
    const pidsBefore = ['postgres', 'lambda'].map(pidOf);
    const r = await runScript('local/cli.ts', ['up'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('already up');
    expect(['postgres', 'lambda'].map(pidOf)).toEqual(pidsBefore);
  });

  it('reports a crashed part, exits 1, and up restarts it', async () => {
    const pid = pidOf('esm-poller');
    process.kill(pid, 'SIGKILL');
    // The kill is asynchronous: wait until the process is gone, as `status` will see it.
    await eventually(async () => (isAlive(pid) ? undefined : true), 'the killed esm-poller gone');
    const status = await runScript('local/cli.ts', ['status'], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/esm-poller\s.*NO\s+crashed/);
    const up = await runScript('local/cli.ts', ['up'], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('esm-poller had crashed');
    expect((await runScript('local/cli.ts', ['status'], env)).code).toBe(0);
  });

  it('refuses a port in use with one line and a non-zero exit, starting nothing', async () => {
    const fresh = await testStackEnv(path.resolve('.'), 'port-in-use');
    const port = await freePort();
    const blocker = net.createServer().listen(port, '127.0.0.1');
    try {
      const r = await runScript('local/cli.ts', ['up'], { ...fresh, LOCAL_S3_PORT: String(port) });
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`port ${port} \\(LOCAL_S3_PORT, for s3\\) is in use`));
      expect(fs.readdirSync(path.join(fresh.LOCAL_CLOUD_DIR ?? '', 'pids'))).toEqual([]);
    } finally {
      blocker.close();
      fs.rmSync(fresh.LOCAL_CLOUD_DIR ?? '', { recursive: true, force: true });
    }
  });

  it('refuses malformed configuration with one line naming the key (exit 2)', async () => {
    const r = await runScript('local/cli.ts', ['status'], { ...env, LOCAL_KINESIS_PORT: 'not-a-port' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('LOCAL_KINESIS_PORT');
  });

  it('refuses an unknown command or part (exit 2)', async () => {
    expect((await runScript('local/cli.ts', ['launch'], env)).code).toBe(2);
    const r = await runScript('local/cli.ts', ['down', '--part', 'dynamodb'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown part');
  });
});
