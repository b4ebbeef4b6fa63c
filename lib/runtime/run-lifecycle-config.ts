import { z } from 'zod';
import { parseConfig } from './config.ts';
import { StateMachineArn } from './world-streamer-config.ts';

/** What the P6/P7 gates (streaming-active, ingest-committed) are deployed with beyond the platform environment. */
export const RunStreamingEnvironment = z.object({
  /** The stream-run state machine whose executions P6 and P7 describe. */
  STREAM_RUN_STATE_MACHINE_ARN: StateMachineArn,
});
export type RunStreamingEnvironment = z.infer<typeof RunStreamingEnvironment>;

export function runStreamingEnvironment(
  source: Record<string, unknown> = process.env,
): RunStreamingEnvironment {
  return parseConfig(RunStreamingEnvironment, source, 'run streaming environment');
}
