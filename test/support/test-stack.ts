import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../local/processes.ts';
import { type StackState, stackDown, stackUp } from '../../local/stack.ts';
import { type StackConfig, stackConfig } from '../../local/stack-config.ts';

/** A whole local cloud for tests: its own temp data directory and free ports; stopped by its PIDs. */

export interface TestStack {
  config: StackConfig;
  state: StackState;
  /** The environment that points the CLI at this stack. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

const PORT_KEYS = [
  'LOCAL_POSTGRES_PORT',
  'LOCAL_KINESIS_PORT',
  'LOCAL_S3_PORT',
  'LOCAL_HTTP_PORT',
  'LOCAL_LAMBDA_PORT',
  'LOCAL_WEBSOCKET_PORT',
  'LOCAL_SFN_PORT',
  'LOCAL_ESM_PORT',
] as const;

export async function testStackEnv(serviceDir: string, label: string): Promise<Record<string, string>> {
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

export async function startTestStack(serviceDir: string, label: string): Promise<TestStack> {
  const env = await testStackEnv(serviceDir, label);
  const config = stackConfig(env);
  const say = (line: string) => console.log(`[${label} stack] ${line}`);
  try {
    const state = await stackUp(config, say);
    return { config, state, env, stop: () => stopTestStack(config, say) };
  } catch (error) {
    await stopTestStack(config, say);
    throw error;
  }
}

async function stopTestStack(config: StackConfig, say: (line: string) => void): Promise<void> {
  await stackDown(config, say);
  fs.rmSync(config.dataDir, { recursive: true, force: true });
}
