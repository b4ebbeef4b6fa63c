import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Child processes of the local cloud: started detached with a PID file, stopped by that PID only. */

export interface PidRecord {
  pid: number;
  part: string;
  startedAt: string;
  command: string[];
}

export function pidFile(pidDir: string, part: string): string {
  return path.join(pidDir, `${part}.pid.json`);
}

export function readPid(pidDir: string, part: string): PidRecord | undefined {
  try {
    const raw = JSON.parse(fs.readFileSync(pidFile(pidDir, part), 'utf8')) as PidRecord;
    return Number.isInteger(raw.pid) && raw.pid > 1 ? raw : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface SpawnSpec {
  part: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  pidDir: string;
  logFile: string;
}

/** Starts a detached process group logging to logFile; records its PID before returning. */
export function spawnPart(spec: SpawnSpec): PidRecord {
  fs.mkdirSync(spec.pidDir, { recursive: true });
  fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
  const log = fs.openSync(spec.logFile, 'a');
  fs.writeSync(
    log,
    `\n--- ${new Date().toISOString()} starting ${spec.part}: ${spec.command} ${spec.args.join(' ')}\n`,
  );
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  if (child.pid === undefined) throw new Error(`${spec.part}: could not start ${spec.command}`);
  child.unref();
  const record: PidRecord = {
    pid: child.pid,
    part: spec.part,
    startedAt: new Date().toISOString(),
    command: [spec.command, ...spec.args],
  };
  fs.writeFileSync(pidFile(spec.pidDir, spec.part), JSON.stringify(record));
  return record;
}

/** SIGTERM to the part's process group, SIGKILL after graceMs; removes the PID file. True if it was running. */
export async function stopPart(pidDir: string, part: string, graceMs = 10_000): Promise<boolean> {
  const rec = readPid(pidDir, part);
  if (!rec) return false;
  const wasAlive = isAlive(rec.pid);
  if (wasAlive) {
    signalGroup(rec.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isAlive(rec.pid) && Date.now() < deadline) await sleep(50);
    if (isAlive(rec.pid)) signalGroup(rec.pid, 'SIGKILL');
    // Stragglers of the group (e.g. a postgres backend) go too; the group id is the recorded PID.
    await sleep(50);
    signalGroup(rec.pid, 'SIGKILL');
  }
  fs.rmSync(pidFile(pidDir, part), { force: true });
  return wasAlive;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** True when something already listens on host:port. */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.once('listening', () => server.close(() => resolve(false)));
    server.listen(port, host);
  });
}

/** A free TCP port on loopback (for tests and benchmarks). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The last lines of a log, for crash reports. */
export function tail(file: string, lines = 5): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
