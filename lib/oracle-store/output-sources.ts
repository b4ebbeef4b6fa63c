import { PlatformError } from '../errors/platform-error.ts';
import { ENGINE_CATALOGUE, outputPathTemplate } from './interface-pack.ts';
import type { ObjectReader } from './object-store.ts';
import { readWorldKey } from './seal.ts';
import { globObjects, renderTemplate } from './templates.ts';

/** The source part keys of an output: its catalogue template rendered with the world's tokens, then globbed. */
export async function outputSourceKeys(
  store: ObjectReader,
  outputId: string,
  scenarioId: string,
): Promise<string[]> {
  const output = ENGINE_CATALOGUE.byId.get(outputId);
  const template = output ? outputPathTemplate(output) : undefined;
  if (!template) throw new PlatformError('OUTPUT_TEMPLATE_MISSING', `OUTPUT_TEMPLATE_MISSING: ${outputId}`);
  const world = await readWorldKey(store, scenarioId);
  const rendered = renderTemplate(template, { ...world, scenario_id: scenarioId });
  if (rendered.missing.length > 0)
    throw new PlatformError(
      'TEMPLATE_TOKEN_MISSING',
      `TEMPLATE_TOKEN_MISSING: ${outputId}: ${rendered.missing.join(', ')}`,
    );
  return (await globObjects(store, rendered.path)).map((o) => o.key).filter((k) => k.endsWith('.parquet'));
}
