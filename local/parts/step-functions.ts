import { startStepFunctionsServer } from '../step-functions/server.ts';
import { fail, onShutdown, requiredEnv } from './part-runtime.ts';
import { readServiceFile } from './service-file.ts';

const service = readServiceFile();
startStepFunctionsServer({
  host: '127.0.0.1',
  port: Number(requiredEnv('PART_PORT')),
  region: service.region,
  accountId: service.accountId,
  lambdaEndpoint: requiredEnv('PART_LAMBDA_ENDPOINT'),
  stateMachines: service.stateMachines.map((m) => ({ name: m.name, definition: m.definition, type: m.type })),
  maxHistoryEvents: Number(requiredEnv('PART_MAX_HISTORY_EVENTS')),
  log: (line) => console.log(JSON.stringify(line)),
})
  .then((server) => {
    console.log(
      `step functions listening on ${server.url} with ${service.stateMachines.length} state machines`,
    );
    onShutdown(() => server.close());
  })
  .catch((error: unknown) => fail('step functions server', error));
