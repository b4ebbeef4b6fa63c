import { z } from 'zod';
import catalogueJson from '../../config/stages/catalogue.json' with { type: 'json' };
import { parseConfig } from './config.ts';

/**
 * The stage catalogue (config/stages/catalogue.json, written by `npm run stages:catalogue` from config/stages/*.yml):
 * what every stage declares about its names and secrets, parsed once. The run reporter's conformance check reads it.
 */

export const StageCatalogue = z.strictObject({
  generated_from: z.string(),
  stages: z.array(
    z.strictObject({
      stage: z.string().min(1),
      streamPrefix: z.string(),
      databaseUrlSsmParameter: z.string(),
      secrets: z.record(z.string(), z.string()),
    }),
  ),
});
export type StageCatalogue = z.infer<typeof StageCatalogue>;

let parsed: StageCatalogue | undefined;

export function stageCatalogue(): StageCatalogue {
  parsed ??= parseConfig(StageCatalogue, catalogueJson, 'config/stages/catalogue.json');
  return parsed;
}
