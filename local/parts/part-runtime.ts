/** What every part process shares: its settings from the environment, and a clean shutdown on SIGTERM/SIGINT. */

export function requiredEnv(key: string): string {
  const value = process.env[key];
  if (value === undefined || value === '') {
    console.error(`missing ${key}`);
    process.exit(2);
  }
  return value;
}

export function onShutdown(stop: () => Promise<unknown>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    stop()
      .catch((error: unknown) => console.error('stop failed', error))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

export function fail(what: string, error: unknown): never {
  console.error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
