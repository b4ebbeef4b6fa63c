import fs from 'node:fs';
import http from 'node:http';
import { z } from 'zod';
import { type EdgeTarget, routeOf } from './edge-routing.ts';
import { refuseLambda, serviceIam } from './iam-enforcement.ts';
import { fail, onShutdown, requiredEnv } from './part-runtime.ts';

/**
 * One AWS endpoint for the whole local cloud (default http://127.0.0.1:4566, LocalStack's edge): each request is
 * passed, as it came, to the part that serves its service (edge-routing.ts), so `AWS_ENDPOINT_URL` with any
 * credentials works for the AWS CLI and every SDK. Lambda's ListFunctions, GetFunction and GetFunctionConfiguration,
 * which serverless-offline does not serve, are answered here from the service definition. Lambda calls signed by a
 * function's role are checked against it here (iam-enforcement.ts); the other parts check their own.
 */

const Routes = z.record(z.enum(['s3', 'kinesis', 'sfn', 'lambda', 'esm']), z.url());
const routes = Routes.parse(JSON.parse(requiredEnv('PART_ROUTES'))) as Record<EdgeTarget, string>;
const serviceFile = requiredEnv('PART_SERVICE_FILE');
const iam = serviceIam(serviceFile);

const ServiceFunctions = z.looseObject({
  region: z.string(),
  accountId: z.string(),
  functions: z.array(z.looseObject({ name: z.string(), timeoutSeconds: z.number() })),
});

function functionConfigurations() {
  const service = ServiceFunctions.parse(JSON.parse(fs.readFileSync(serviceFile, 'utf8')));
  return service.functions.map((f) => ({
    FunctionName: f.name,
    FunctionArn: `arn:aws:lambda:${service.region}:${service.accountId}:function:${f.name}`,
    Runtime: 'nodejs22.x',
    Timeout: f.timeoutSeconds,
    PackageType: 'Zip',
    State: 'Active',
    LastUpdateStatus: 'Successful',
    Version: '$LATEST',
  }));
}

function json(res: http.ServerResponse, status: number, body: unknown, errorType?: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(JSON.stringify(body));
}

/** ListFunctions, GetFunction, GetFunctionConfiguration; true when answered. */
function lambdaControlPlane(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  if (req.method !== 'GET') return false;
  const path = new URL(req.url ?? '/', 'http://edge').pathname;
  if (/^\/2015-03-31\/functions\/?$/.test(path)) {
    json(res, 200, { Functions: functionConfigurations() });
    return true;
  }
  const one = /^\/2015-03-31\/functions\/([^/]+)(\/configuration)?\/?$/.exec(path);
  if (!one?.[1]) return false;
  const wanted = decodeURIComponent(one[1]);
  const config = functionConfigurations().find((f) => f.FunctionName === wanted || f.FunctionArn === wanted);
  if (!config) {
    json(res, 404, { Type: 'User', Message: `Function not found: ${wanted}` }, 'ResourceNotFoundException');
  } else if (one[2]) json(res, 200, config);
  else json(res, 200, { Configuration: config, Code: { RepositoryType: 'S3' } });
  return true;
}

const server = http.createServer((req, res) => {
  if (req.url === '/_edge/health') return json(res, 200, { routes });
  const part = routeOf({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
  if (part === 'lambda' && refuseLambda(iam, req, res)) return;
  if (lambdaControlPlane(req, res)) return;
  const target = new URL(routes[part]);
  const upstream = http.request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: target.host },
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', (error) => {
    if (res.headersSent) return res.destroy(error);
    json(res, 502, { message: `edge: ${part} at ${routes[part]} did not answer: ${error.message}` });
  });
  req.pipe(upstream);
});

server.listen(Number(requiredEnv('PART_PORT')), '127.0.0.1', () =>
  console.log(`edge listening on 127.0.0.1:${requiredEnv('PART_PORT')}: ${JSON.stringify(routes)}`),
);
server.on('error', (error) => fail('edge', error));
onShutdown(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);
