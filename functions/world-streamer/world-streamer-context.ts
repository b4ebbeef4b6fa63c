import type { z } from 'zod';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { streamLog } from '../../lib/adapters/world-streamer-dependencies.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { createLogger } from '../../lib/runtime/logger.ts';
import {
  settingsFromEnvironment,
  worldStreamerEnvironment,
} from '../../lib/runtime/world-streamer-config.ts';

/** What every World Streamer handler shares, built once at cold start; each handler builds its own ports. */
export const env = platformEnvironment();
export const wsp = worldStreamerEnvironment();
export const settings = settingsFromEnvironment(wsp, env.STAGE);
export const deps = platformDependencies(env);
export const logger = createLogger('world-streamer');
export const log = streamLog(logger);

/** Input that fails its schema: a named error the state machine can catch (and does not retry). */
export class InvalidStreamRequest extends Error {
  override name = 'WSP_REQUEST_INVALID';
}

/** The event parsed by its schema, or InvalidStreamRequest naming every bad field. */
export function parseRequest<S extends z.ZodType>(schema: S, event: unknown): z.infer<S> {
  const req = schema.safeParse(event);
  if (!req.success)
    throw new InvalidStreamRequest(
      req.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  return req.data;
}
