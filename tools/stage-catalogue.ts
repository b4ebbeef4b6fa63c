import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { StageCatalogue } from '../lib/runtime/stage-catalogue.ts';

/**
 * `npm run stages:catalogue`: config/stages/catalogue.json, what the run reporter's conformance check reads of every
 * stage config (config/stages/*.yml) — a Lambda carries JSON, not the YAML files: each stage's stream prefix and every
 * secret-bearing key (`*ApiKey`, `*ApiKeys`, `*SsmParameter`) as written, `${…}` expressions unresolved. A unit test
 * (test/unit/run-reporter/stage-catalogue.test.ts) fails when the file is behind the YAML.
 */

const STAGES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../config/stages');
export const CATALOGUE_FILE = path.join(STAGES_DIR, 'catalogue.json');

const SECRET_KEY = /(ApiKeys?|SsmParameter)$/;

export function stageCatalogue(dir: string = STAGES_DIR): StageCatalogue {
  const stages = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((file) => {
      const config = parse(fs.readFileSync(path.join(dir, file), 'utf8'), { logLevel: 'error' }) as Record<
        string,
        unknown
      >;
      const secrets: Record<string, string> = {};
      for (const [key, value] of Object.entries(config).sort(([a], [b]) => (a < b ? -1 : 1)))
        if (SECRET_KEY.test(key) && key !== 'databaseUrlSsmParameter') secrets[key] = String(value ?? '');
      return {
        stage: file.replace(/\.yml$/, ''),
        streamPrefix: String(config.streamPrefix ?? ''),
        databaseUrlSsmParameter: String(config.databaseUrlSsmParameter ?? ''),
        secrets,
      };
    });
  return { generated_from: 'config/stages/*.yml', stages };
}

export const catalogueText = (catalogue: StageCatalogue) => `${JSON.stringify(catalogue, null, 2)}\n`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fs.writeFileSync(CATALOGUE_FILE, catalogueText(stageCatalogue()));
  console.log(`wrote ${path.relative(process.cwd(), CATALOGUE_FILE)}`);
}
