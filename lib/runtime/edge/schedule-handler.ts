import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { type Edge, type EdgeHandler, type EdgeOptions, edgeLogger } from './edge-common.ts';

/**
 * The EventBridge schedule edge: a scheduled event (or the empty event of a manual invoke) parsed by zod, the
 * core called, its result returned. Errors are thrown as they are: the schedule runs again on its next tick.
 */

/** An EventBridge "Scheduled Event"; a direct invoke sends `{}` (the fields are then absent). */
export const ScheduleEvent = z
  .looseObject({
    id: z.string().optional(),
    'detail-type': z.string().optional(),
    source: z.string().optional(),
    time: z.string().optional(),
  })
  .nullish()
  .transform((event) => event ?? {});
export type ScheduleEvent = z.output<typeof ScheduleEvent>;

export function scheduleHandler<R>(
  core: (event: ScheduleEvent, edge: Edge) => Promise<R>,
  options: EdgeOptions,
) {
  const { logger, middleware } = edgeLogger(options.service);
  const handler = middy<unknown, R>()
    .use(middleware)
    .use(parser({ schema: ScheduleEvent }))
    .handler(async (event, context) => {
      const scheduled = event as ScheduleEvent;
      if (scheduled.id) logger.setCorrelationId(scheduled.id);
      return core(scheduled, { context, logger });
    });
  return handler as unknown as EdgeHandler<R>;
}
