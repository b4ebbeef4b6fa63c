import http from 'node:http';
import { kinesisClient, lambdaClient, s3Client } from '../../lib/adapters/aws-clients.ts';
import { postgresCheckpointStore } from '../event-source-mapping/checkpoint-store.ts';
import { systemClock } from '../event-source-mapping/clock.ts';
import { answerMappingApi } from '../event-source-mapping/mapping-api.ts';
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

/** A request's body as text (an UpdateEventSourceMapping is a few hundred bytes; more is refused). */
function readBody(req: http.IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) req.destroy(new Error(`request body over ${limit} bytes`));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

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
    // Lambda's List/Get/UpdateEventSourceMapping, checked against a calling function's role.
    if (refuseLambda(iam, req, res)) return;
    readBody(req)
      .then((body) => {
        const url = req.url ?? '/';
        const api = answerMappingApi(poller, req.method ?? 'GET', url, body);
        if (api) {
          res.writeHead(api.status, {
            'content-type': 'application/json',
            ...(api.errorType ? { 'x-amzn-errortype': api.errorType } : {}),
          });
          res.end(JSON.stringify(api.body));
          return;
        }
        const known = url === '/status' || url === '/health';
        const answer =
          url === '/status' ? { mappings: poller.status() } : { ok: true, mappings: mappings.length };
        res.writeHead(known ? 200 : 404, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      })
      .catch((error: unknown) => res.destroy(error as Error));
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
