import { createHash } from 'node:crypto';
import http from 'node:http';
import { kinesisClient, lambdaClient } from '../../lib/adapters/aws-clients.ts';
import { EventSourceMappingPoller, type MappingSpec } from '../event-source-mapping/poller.ts';
import { fail, onShutdown, requiredEnv } from './part-runtime.ts';
import { readServiceFile } from './service-file.ts';

const service = readServiceFile();
const port = Number(requiredEnv('PART_PORT'));

/** A stable UUID per (function, stream, index), so checkpoints and failure keys survive restarts. */
function mappingUuid(fn: string, stream: string, index: number): string {
  const h = createHash('sha256').update(`${fn}|${stream}|${index}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const mappings: MappingSpec[] = service.functions.flatMap((f) =>
  f.streamEvents.map((e, i) => ({
    uuid: mappingUuid(f.name, e.streamName, i),
    functionName: f.name,
    streamName: e.streamName,
    config: e,
  })),
);

const endpoints = {
  region: service.region,
  kinesis: requiredEnv('PART_KINESIS_ENDPOINT'),
  lambda: requiredEnv('PART_LAMBDA_ENDPOINT'),
};
const poller = new EventSourceMappingPoller(mappings, {
  kinesis: kinesisClient(endpoints),
  lambda: lambdaClient(endpoints),
  region: service.region,
  accountId: service.accountId,
});

const server = http.createServer((req, res) => {
  const body =
    req.url === '/status' ? { mappings: poller.status() } : { ok: true, mappings: mappings.length };
  res.writeHead(req.url === '/status' || req.url === '/health' ? 200 : 404, {
    'content-type': 'application/json',
  });
  res.end(JSON.stringify(body));
});

poller
  .start()
  .then(
    () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      }),
  )
  .then(() =>
    console.log(`esm poller: ${mappings.length} mappings, status on http://127.0.0.1:${port}/status`),
  )
  .catch((error: unknown) => fail('esm poller', error));

onShutdown(async () => {
  server.close();
  await poller.stop();
});
