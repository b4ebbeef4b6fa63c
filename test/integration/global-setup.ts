import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startTestStack } from '../support/test-stack.ts';

/** One local cloud of the product's own serverless.yml for the whole integration tier. */
export default async function setup(project: TestProject) {
  // IG health is cached for its probe interval; tests that break and mend the bus need it short.
  process.env.IG_HEALTH_PROBE_INTERVAL_SECONDS ??= '1';
  // The World Streamer caps each output of a stream session (WSP_MAX_EVENTS_PER_OUTPUT), so a stream test is small.
  process.env.WSP_MAX_EVENTS_PER_OUTPUT ??= '20';
  // The Gate runs are the reference's closeout runs: the case trigger escalates every decision there (its
  // `every_decision` mode), so a 20-event run has cases and labels to check. The default, non_allow, is the product's.
  process.env.CASE_TRIGGER_ESCALATE ??= 'every_decision';
  const stack = await startTestStack(path.resolve('.'), 'product');
  project.provide('stack', { state: stack.state, env: stack.env });
  return async () => {
    await stack.stop();
  };
}
