import http from 'node:http';
import { startStepFunctionsServer } from '../step-functions/server.ts';
import { guardJsonProtocol, serviceIam } from './iam-enforcement.ts';
import { fail, onShutdown, requiredEnv } from './part-runtime.ts';
import { readServiceFile } from './service-file.ts';

// The Step Functions server on a loopback port of its own, behind a front on PART_PORT that enforces the
// functions' roles (iam-enforcement.ts) and passes every request on as it came.
const service = readServiceFile();
const port = Number(requiredEnv('PART_PORT'));

async function main(): Promise<void> {
  const inner = await startStepFunctionsServer({
    host: '127.0.0.1',
    port: 0,
    region: service.region,
    accountId: service.accountId,
    lambdaEndpoint: requiredEnv('PART_LAMBDA_ENDPOINT'),
    stateMachines: service.stateMachines.map((m) => ({
      name: m.name,
      definition: m.definition,
      type: m.type,
    })),
    maxHistoryEvents: Number(requiredEnv('PART_MAX_HISTORY_EVENTS')),
    log: (line) => console.log(JSON.stringify(line)),
  });
  const agent = new http.Agent({ keepAlive: true });
  const forward: http.RequestListener = (req, res) => {
    const upstream = http.request(
      { agent, host: '127.0.0.1', port: inner.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => res.destroy(error));
    req.pipe(upstream);
  };
  const front = http.createServer(guardJsonProtocol({ protocol: 'states', iam: serviceIam() }, forward));
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(port, '127.0.0.1', () => resolve());
  });
  console.log(
    `step functions listening on http://127.0.0.1:${port} with ${service.stateMachines.length} state machines`,
  );
  onShutdown(async () => {
    await new Promise<void>((resolve) => {
      front.close(() => resolve());
      front.closeAllConnections();
    });
    agent.destroy();
    await inner.close();
  });
}

main().catch((error: unknown) => fail('step functions server', error));
