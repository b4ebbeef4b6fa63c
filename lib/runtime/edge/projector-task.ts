import { z } from 'zod';
import { ProjectorReportRequest, queryTask } from '../../contracts/projector-report.ts';
import { type TaskEdgeOptions, taskHandler } from './task-handler.ts';

/**
 * The task edge every RTDL projector has: `{action: "report", platform_run_id}` publishes the run's documents (the
 * P8 gate), and a projector with a query answers `{action: <query>, platform_run_id?, request}` (the request is
 * parsed by the query's core, which answers INVALID_REQUEST for a bad one).
 */
export interface ProjectorTaskOptions<Action extends string> extends TaskEdgeOptions {
  report: (platformRunId: string) => Promise<unknown>;
  query?: {
    action: Action;
    answer: (task: { platform_run_id?: string | undefined; request: unknown }) => Promise<unknown>;
  };
}

export function projectorTaskHandler<Action extends string>(options: ProjectorTaskOptions<Action>) {
  const { report, query, ...edge } = options;
  const Task = query
    ? z.discriminatedUnion('action', [ProjectorReportRequest, queryTask(query.action)])
    : ProjectorReportRequest;
  return taskHandler(
    Task,
    async (task: z.output<typeof Task>) => {
      if (task.action === 'report' || !query || !('request' in task))
        return report(task.platform_run_id as string);
      return query.answer(task);
    },
    edge,
  );
}
