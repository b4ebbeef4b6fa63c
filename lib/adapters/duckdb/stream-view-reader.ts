import fs from 'node:fs';
import { DuckDBInstance, type DuckDBType, DuckDBTypeId, type DuckDBValue } from '@duckdb/node-api';
import { PyFloat } from '../../contracts/canonical-json.ts';
import { InvariantViolation, PlatformError } from '../../errors/platform-error.ts';
import type { ObjectReader } from '../../oracle-store/object-store.ts';
import { viewPrefix } from '../../oracle-store/stream-sort/receipt.ts';
import type { StreamViewReader, StreamViewReadRequest } from '../../world-streamer/ports.ts';
import type { StreamViewRow } from '../../world-streamer/stream-contracts.ts';
import { storeWorkspace } from '../store-workspace.ts';
import type { DuckDbSettings } from './stream-sort-engine.ts';

/**
 * The World Streamer's stream-view reader (control-ingress.md §4.3): the parts of
 * `<engine run root>/stream_view/ts_utc/output_id=<id>/` in view order (parts by name, then `file_row_number`),
 * read from a global row offset. Parts are staged from S3 into the workspace (once per container: a sealed view
 * never changes) and read by DuckDB with `hive_partitioning = false`, so the `output_id=` directory adds no column.
 *
 * Values keep their exact meaning for the envelope and its payload hash: BIGINT/UBIGINT (and the HUGEINTs) →
 * bigint, DOUBLE/FLOAT/DECIMAL → PyFloat (12.0 stays 12.0, as Python writes it), the small integers → number,
 * VARCHAR → string, BOOLEAN → boolean, NULL → null. Any other type is refused rather than guessed.
 */

export interface StreamViewReaderOptions {
  /** The engine run root as an ObjectReader (its `root` is the string the stream sort used). */
  open(engineRunRoot: string): ObjectReader;
  duckdb: DuckDbSettings;
  /** Where parts are staged (Lambda /tmp). */
  workspaceDir: string;
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

export class UnsupportedColumnType extends PlatformError<'UNSUPPORTED_COLUMN_TYPE'> {
  constructor(message: string) {
    super('UNSUPPORTED_COLUMN_TYPE', message);
  }
}

/** One DuckDB value as the envelope needs it (see the module comment). */
export function convertValue(type: DuckDBType, value: DuckDBValue, column: string): unknown {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return Boolean(value);
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
      return Number(value);
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return typeof value === 'bigint' ? value : BigInt(String(value));
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return new PyFloat(Number(value));
    case DuckDBTypeId.DECIMAL:
      // §4.4 "Decimals → float".
      return new PyFloat(Number(String(value)));
    case DuckDBTypeId.VARCHAR:
      return String(value);
    default:
      throw new UnsupportedColumnType(
        `column ${column}: type ${type.toString()} is not supported in a stream view`,
      );
  }
}

interface Part {
  key: string;
  uri: string;
  rows: number;
  path: string;
}

export async function openStreamViewReader(
  options: StreamViewReaderOptions,
): Promise<StreamViewReader & { close(): void }> {
  fs.mkdirSync(options.duckdb.tempDirectory, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: options.duckdb.memoryLimit,
    threads: String(options.duckdb.threads),
    temp_directory: options.duckdb.tempDirectory,
  });
  /** Row counts of staged parts, by URI and ETag (a sealed view's parts never change). */
  const counted = new Map<string, { rows: number; path: string }>();

  const withConnection = async <T>(
    work: (c: Awaited<ReturnType<DuckDBInstance['connect']>>) => Promise<T>,
  ) => {
    const connection = await instance.connect();
    try {
      return await work(connection);
    } finally {
      connection.closeSync();
    }
  };

  async function partsOf(request: StreamViewReadRequest, upTo: number): Promise<Part[]> {
    const store = options.open(request.engineRunRoot);
    const workspace = storeWorkspace(
      store,
      `${options.workspaceDir}/${store.root.replace(/[^\w.-]+/g, '_')}`,
    );
    const listed = (await store.list(viewPrefix(request.outputId)))
      .filter((o) => o.key.endsWith('.parquet'))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const parts: Part[] = [];
    let offset = 0;
    for (const [ordinal, object] of listed.entries()) {
      if (offset >= upTo) break;
      const uri = `${store.root}/${object.key}`;
      const cacheKey = `${uri}|${object.etag ?? ''}|${object.size}`;
      let known = counted.get(cacheKey);
      if (!known) {
        const [path] = await workspace.stage([{ key: object.key, ordinal }]);
        if (!path) throw new InvariantViolation(`staging ${uri} gave no file`);
        const rows = await withConnection(async (c) => {
          const reader = await c.runAndReadAll(
            `SELECT coalesce(sum(num_rows), 0)::BIGINT AS n FROM parquet_file_metadata(${quote(path)})`,
          );
          return Number(reader.getRows()[0]?.[0] ?? 0);
        });
        known = { rows, path };
        counted.set(cacheKey, known);
      }
      parts.push({ key: object.key, uri, rows: known.rows, path: known.path });
      offset += known.rows;
    }
    return parts;
  }

  return {
    async read(request) {
      if (request.limit <= 0) return [];
      const end = request.fromRow + request.limit;
      const parts = await partsOf(request, end);
      const out: StreamViewRow[] = [];
      let start = 0;
      for (const part of parts) {
        const partEnd = start + part.rows;
        if (partEnd > request.fromRow && start < end) {
          const from = Math.max(request.fromRow, start) - start;
          const to = Math.min(end, partEnd) - start;
          const rows = await withConnection(async (c) => {
            const reader = await c.runAndReadAll(
              `SELECT * FROM read_parquet(${quote(part.path)}, hive_partitioning = false, file_row_number = true)
               WHERE file_row_number >= ${from} AND file_row_number < ${to} ORDER BY file_row_number`,
            );
            const names = reader.columnNames();
            const types = reader.columnTypes();
            const rowIndex = names.indexOf('file_row_number');
            return reader.getRows().map((values): StreamViewRow => {
              const row: Record<string, unknown> = {};
              for (const [i, name] of names.entries()) {
                if (i === rowIndex) continue;
                row[name] = convertValue(types[i] as DuckDBType, values[i] ?? null, name);
              }
              return { file: part.uri, file_row_index: Number(values[rowIndex]), row };
            });
          });
          out.push(...rows);
        }
        start = partEnd;
        if (start >= end) break;
      }
      return out;
    },
    close() {
      instance.closeSync();
    },
  };
}
