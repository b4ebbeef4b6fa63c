import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import type { TaskEdgeOptions } from '../../lib/runtime/edge/task-handler.ts';
import {
  settingsFromEnvironment,
  worldStreamerEnvironment,
} from '../../lib/runtime/world-streamer-config.ts';

/** What every World Streamer handler shares, built once at cold start; each handler builds its own ports. */
export const env = platformEnvironment();
export const wsp = worldStreamerEnvironment();
export const settings = settingsFromEnvironment(wsp, env.STAGE);
export const deps = platformDependencies(env);
export const service = 'world-streamer';

/** Every stream-run task: an event that fails its schema is WSP_REQUEST_INVALID (the state machine does not retry it). */
export const streamTask: TaskEdgeOptions = { service, invalid: 'WSP_REQUEST_INVALID' };
