import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  type GenerateWorldOptions,
  generateWorld,
  type WorldSummary,
} from '../../../tools/world/generate.ts';

export const SMALL_EVENTS = 2_000;

export interface TestWorld {
  readonly parent: string;
  readonly root: string;
  readonly summary: WorldSummary;
  dispose(): Promise<void>;
}

/** A small world in its own temporary folder; dispose() deletes it. */
export async function makeWorld(options: Partial<GenerateWorldOptions> = {}): Promise<TestWorld> {
  const parent = await mkdtemp(join(tmpdir(), 'world-test-'));
  const root = join(parent, 'engine-run');
  const summary = await generateWorld({ out: root, events: SMALL_EVENTS, seed: 7n, ...options });
  return { parent, root, summary, dispose: () => rm(parent, { recursive: true, force: true }) };
}

/** Every file below `root` (POSIX relative path) with the sha256 of its bytes, sorted by path. */
export async function fileDigests(root: string): Promise<Map<string, string>> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
  const digests = new Map<string, string>();
  for (const file of files)
    digests.set(
      file,
      createHash('sha256')
        .update(await readFile(join(root, file)))
        .digest('hex'),
    );
  return digests;
}

/** A DuckDB connection for reading the world's Parquet back. */
export async function openDuck() {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  return {
    async rows(sql: string): Promise<Record<string, unknown>[]> {
      return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
    },
    async scalar(sql: string): Promise<unknown> {
      const [row] = (await connection.runAndReadAll(sql)).getRows();
      return row?.[0];
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
export type Duck = Awaited<ReturnType<typeof openDuck>>;

/**
 * `read_parquet('<dir>/part-*.parquet')` for an output of the world. Hive partitioning is off: DuckDB
 * would otherwise replace the file's seed/scenario_id columns with types it guesses from the path.
 */
export function parquetOf(world: TestWorld, outputId: string, extra = ''): string {
  const output = world.summary.outputs.find((o) => o.outputId === outputId);
  if (output === undefined) throw new Error(`no output ${outputId}`);
  return `read_parquet('${join(world.root, output.directory)}/part-*.parquet', hive_partitioning = false${extra})`;
}
