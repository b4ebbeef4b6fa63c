import { ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import type { DaemonsPorts } from '../run-lifecycle/daemons-ready.ts';
import { type AwsEndpoints, lambdaClient } from './aws-clients.ts';

/**
 * The event-source mappings of a function (ListEventSourceMappings): Lambda's API on AWS; the local cloud serves
 * it from its poller (`esmApiEndpoint`).
 */
export function lambdaEventSourceMappings(
  endpoints: AwsEndpoints,
  esmApiEndpoint: string | undefined,
): DaemonsPorts['mappingsOf'] {
  const lambda = lambdaClient({ ...endpoints, lambda: esmApiEndpoint ?? endpoints.lambda });
  return async (functionName) => {
    const out = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: functionName }));
    return (out.EventSourceMappings ?? []).map((m) => ({
      source: m.EventSourceArn ?? '?',
      state: m.State ?? '?',
    }));
  };
}
