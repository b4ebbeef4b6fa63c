import http from 'node:http';
import { kinesisClient, lambdaClient, s3Client } from '../../lib/adapters/aws-clients.ts';
import { postgresCheckpointStore } from '../event-source-mapping/checkpoint-store.ts';
import { systemClock } from '../event-source-mapping/clock.ts';
import { listEventSourceMappings } from '../event-source-mapping/list-api.ts';
import { mappingsOf } from '../event-source-mapping/mapping-config.ts';
import { EventSourceMappingPoller } from '../event-source-mapping/poller.ts';
import { refuseLambda, serviceIam } from './iam-enforcement.ts';
import { fail, onShutdown, requiredEnv } from './part-runtime.ts';
import { readServiceFile } from './service-file.ts';

const service = readServiceFile();
const port = Number(requiredEnv('PART_PORT'));
const mappings = mappingsOf(service);
const endpoints = {
  region: service.region,
  kinesis: requiredEnv('PART_KINESIS_ENDPOINT'),
  lambda: requiredEnv('PART_LAMBDA_ENDPOINT'),
  s3: requiredEnv('PART_S3_ENDPOINT'),
};

async function main(): Promise<void> {
  const checkpoints = await postgresCheckpointStore(requiredEnv('PART_DATABASE_URL'));
  const poller = new EventSourceMappingPoller(mappings, {
    kinesis: kinesisClient(endpoints),
    lambda: lambdaClient(endpoints),
    s3: s3Client(endpoints),
    checkpoints,
    region: service.region,
    accountId: service.accountId,
    failureDir: requiredEnv('PART_FAILURE_DIR'),
    clock: systemClock(Number(process.env.PART_CLOCK_OFFSET_MS ?? 0)),
    idleMinMs: Number(process.env.PART_IDLE_MIN_MS ?? 20),
    idleMaxMs: Number(process.env.PART_IDLE_MAX_MS ?? 1000),
    log: (line) => console.log(JSON.stringify({ at: new Date().toISOString(), ...line })),
  });
  await poller.start();
  const iam = serviceIam();
  const server = http.createServer((req, res) => {
    // Lambda's ListEventSourceMappings and GetEventSourceMapping, checked against a calling function's role.
    if (refuseLambda(iam, req, res)) return;
    const listed = req.method === 'GET' ? listEventSourceMappings(mappings, req.url ?? '') : undefined;
    const known = listed !== undefined || req.url === '/status' || req.url === '/health';
    const body =
      listed ??
      (req.url === '/status' ? { mappings: poller.status() } : { ok: true, mappings: mappings.length });
    res.writeHead(known ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  console.log(`esm poller: ${mappings.length} mappings, status on http://127.0.0.1:${port}/status`);
  onShutdown(async () => {
    server.close();
    await poller.stop();
    await checkpoints.close();
  });
}

main().catch((error: unknown) => fail('esm poller', error));
