import type { Context } from 'aws-lambda';

/**
 * One function, several triggers: an event with a `requestContext` is an HTTP API call, an event whose `Records` come
 * from `aws:kinesis` an event-source mapping's batch, anything else the task (a Step Functions task or a direct
 * invoke). A handler names only the triggers it has (the Scenario Runner's submit: http and task; a projector: stream
 * and task).
 */
export function byTrigger<H = never, S = never, T = never>(handlers: {
  http?: (event: unknown, context: Context) => Promise<H>;
  stream?: (event: unknown, context: Context) => Promise<S>;
  task: (event: unknown, context: Context) => Promise<T>;
}) {
  return (event: unknown, context: Context): Promise<H | S | T> => {
    if (handlers.http && typeof event === 'object' && event !== null && 'requestContext' in event)
      return handlers.http(event, context);
    if (handlers.stream && isKinesisBatch(event)) return handlers.stream(event, context);
    return handlers.task(event, context);
  };
}

function isKinesisBatch(event: unknown): boolean {
  if (typeof event !== 'object' || event === null || !('Records' in event)) return false;
  const records = (event as { Records: unknown }).Records;
  return (
    Array.isArray(records) &&
    records.length > 0 &&
    (records[0] as { eventSource?: unknown } | null)?.eventSource === 'aws:kinesis'
  );
}
