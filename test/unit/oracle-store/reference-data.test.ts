import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CATALOGUE_DIGEST,
  ENGINE_CATALOGUE,
  ENGINE_GATE_MAP,
  EXTRACT_SOURCES,
  GATE_MAP_DIGEST,
  outputPathTemplate,
} from '../../../lib/oracle-store/interface-pack.ts';
import { renderReferenceFiles } from '../../../tools/sync-reference.ts';
import { sha } from './world-builder.ts';

/** The interface pack next to the repository in the workspace, else the copy in test/fixtures/engine-reference. */
const WORKSPACE = path.resolve(import.meta.dirname, '../../../../shared/reference/interface_pack');
const COPY = path.resolve(import.meta.dirname, '../../fixtures/engine-reference/interface_pack');
const inWorkspace = fs.existsSync(WORKSPACE);
/** CI lays shared/ beside its clone: there the comparison must run, not skip. */
const mustCompare = inWorkspace || process.env.CI === 'true';
const REFERENCE = inWorkspace ? WORKSPACE : COPY;
const hasReference = fs.existsSync(REFERENCE);

describe('checked-in interface pack extracts', () => {
  it.skipIf(!mustCompare)(
    'the test copies of the reference YAML equal the workspace files (skipped only outside the workspace and CI)',
    () => {
      if (!inWorkspace)
        throw new Error(
          `${WORKSPACE} is missing: CI lays shared/ beside the clone, so the copies cannot be compared`,
        );
      // Each copy under test/fixtures/engine-reference and where it comes from under ../shared/reference.
      const origin: Record<string, string> = {
        'engine-schemas/schemas.layer1.yaml': 'interface_pack/layer-1/specs/contracts/1A/schemas.layer1.yaml',
      };
      const walk = (dir: string): string[] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
          const p = path.join(dir, e.name);
          return e.isDirectory() ? walk(p) : e.name.endsWith('.yaml') ? [p] : [];
        });
      const root = path.resolve(COPY, '..');
      const copies = walk(root).map((p) => path.relative(root, p));
      expect(copies.length).toBeGreaterThanOrEqual(9);
      for (const rel of copies) {
        const source = path.resolve(WORKSPACE, '..', origin[rel] ?? rel);
        expect(fs.readFileSync(path.join(root, rel)).equals(fs.readFileSync(source)), rel).toBe(true);
      }
    },
  );

  it('the digest constants are those of the extracts’ sources', () => {
    expect(EXTRACT_SOURCES.catalogue.sha256).toBe(CATALOGUE_DIGEST);
    expect(EXTRACT_SOURCES.gateMap.sha256).toBe(GATE_MAP_DIGEST);
  });

  it.skipIf(!hasReference)('the digests are sha256 of the RAW reference YAML bytes', () => {
    expect(sha(fs.readFileSync(path.join(REFERENCE, 'engine_outputs.catalogue.yaml')))).toBe(
      CATALOGUE_DIGEST,
    );
    expect(sha(fs.readFileSync(path.join(REFERENCE, 'engine_gates.map.yaml')))).toBe(GATE_MAP_DIGEST);
  });

  it.skipIf(!hasReference)('the extracts are what sync-reference.ts makes of the YAML today', () => {
    const files = renderReferenceFiles(REFERENCE);
    const here = path.resolve(import.meta.dirname, '../../../lib/oracle-store/reference');
    for (const name of ['engine-outputs.catalogue.json', 'engine-gates.map.json'] as const) {
      expect(JSON.parse(fs.readFileSync(path.join(here, name), 'utf8'))).toEqual(JSON.parse(files[name]));
    }
    expect(fs.readFileSync(path.join(here, 'digests.ts'), 'utf8')).toBe(files['digests.ts']);
  });

  it('holds 340 outputs and 10 gates; 5B templates lose the folded-scalar newline', () => {
    expect(ENGINE_CATALOGUE.outputs).toHaveLength(340);
    expect(ENGINE_GATE_MAP.gates).toHaveLength(10);
    const arrivals = ENGINE_CATALOGUE.byId.get('arrival_events_5B');
    expect(arrivals && outputPathTemplate(arrivals)).toBe(
      'data/layer2/5B/arrival_events/seed={seed}/manifest_fingerprint={manifest_fingerprint}/scenario_id={scenario_id}/part-*.parquet',
    );
  });
});
