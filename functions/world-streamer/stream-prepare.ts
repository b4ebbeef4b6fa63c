import { streamPreparePorts } from '../../lib/adapters/world-streamer-dependencies.ts';
import { RunStreamSettings } from '../../lib/contracts/platform-run.ts';
import { StreamRunInput } from '../../lib/world-streamer/stream-contracts.ts';
import { prepareStream } from '../../lib/world-streamer/stream-plan.ts';
import { deps, logger, parseRequest, settings, wsp } from './world-streamer-context.ts';

const ports = streamPreparePorts(wsp, deps);

/** The run's stream settings pinned at P1 (platform_runs.stream_settings); {} for a run pinned without them. */
async function runStreamSettings(platformRunId: string): Promise<RunStreamSettings> {
  const res = await (await deps.pool()).query<{ stream_settings: unknown }>(
    'SELECT stream_settings FROM platform_runs WHERE platform_run_id = $1',
    [platformRunId],
  );
  const parsed = RunStreamSettings.safeParse(res.rows[0]?.stream_settings ?? {});
  return parsed.success ? parsed.data : {};
}

/**
 * world-streamer-stream-prepare: the stream checks and the plan (control-ingress.md §4.2, §4.3). Answers
 * `{kind: "plan", plan}` or `{kind: "failed", result}`; the state machine maps over `plan.outputs`.
 */
export const handler = async (event: unknown) => {
  const input = parseRequest(StreamRunInput, event);
  const prepared = await prepareStream(
    { engineRuns: ports.engineRuns, allowlist: ports.allowlist },
    input,
    settings,
  );
  if (prepared.kind === 'plan') {
    const run = await runStreamSettings(prepared.plan.platform_run_id);
    if (Object.keys(run).length > 0) prepared.plan.stream_settings = run;
  }
  if (prepared.kind === 'failed') {
    logger.warn('stream checks failed', { session: input.session_id, ...prepared.result });
  } else {
    logger.info('stream planned', {
      session: input.session_id,
      outputs: prepared.plan.outputs.map((o) => o.output_id),
      packKey: prepared.plan.pack_key,
      streamSettings: prepared.plan.stream_settings ?? 'deployment defaults',
    });
  }
  return prepared;
};
