import type { Context } from 'aws-lambda';

/**
 * One function, two triggers (the Scenario Runner's submit): an event with a `requestContext` is an HTTP API call,
 * anything else the Step Functions task.
 */
export function byTrigger<H, T>(handlers: {
  http: (event: unknown, context: Context) => Promise<H>;
  task: (event: unknown, context: Context) => Promise<T>;
}) {
  return (event: unknown, context: Context): Promise<H | T> =>
    typeof event === 'object' && event !== null && 'requestContext' in event
      ? handlers.http(event, context)
      : handlers.task(event, context);
}
