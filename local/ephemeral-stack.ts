import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './processes.ts';
import { type StackState, stackDown, stackUp } from './stack.ts';
import { PORT_KEYS, type StackConfig, stackConfig } from './stack-config.ts';

/** A throwaway local cloud (tests, benchmarks): its own temp data directory and free ports; stopped by its PIDs. */

export interface EphemeralStack {
  config: StackConfig;
  state: StackState;
  /** The environment that points the CLI at this stack. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function ephemeralStackEnv(serviceDir: string, label: string): Promise<Record<string, string>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `fraud-platform-${label}-`));
  const env: Record<string, string> = {
    LOCAL_CLOUD_DIR: dataDir,
    LOCAL_SERVICE_DIR: serviceDir,
    LOCAL_STARTUP_TIMEOUT_SECONDS: '120',
  };
  const taken = new Set<number>();
  for (const key of PORT_KEYS) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    env[key] = String(port);
  }
  return env;
}

export async function startEphemeralStack(
  serviceDir: string,
  label: string,
  say: (line: string) => void = (line) => console.log(`[${label} stack] ${line}`),
): Promise<EphemeralStack> {
  const env = await ephemeralStackEnv(serviceDir, label);
  const config = stackConfig(env);
  try {
    const state = await stackUp(config, say);
    return { config, state, env, stop: () => stopEphemeralStack(config, say, label) };
  } catch (error) {
    await stopEphemeralStack(config, say, label);
    throw error;
  }
}

/** Where the logs of the last throwaway stack of each label are kept after it is removed (for post-mortems). */
export function lastLogsDir(label: string): string {
  return path.join(os.tmpdir(), 'fraud-platform-last-logs', label);
}

async function stopEphemeralStack(
  config: StackConfig,
  say: (line: string) => void,
  label: string,
): Promise<void> {
  await stackDown(config, say);
  const logs = path.join(config.dataDir, 'logs');
  if (fs.existsSync(logs)) {
    fs.rmSync(lastLogsDir(label), { recursive: true, force: true });
    fs.cpSync(logs, lastLogsDir(label), { recursive: true });
  }
  fs.rmSync(config.dataDir, { recursive: true, force: true });
}
