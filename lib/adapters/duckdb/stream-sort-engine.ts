import fs from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import type { SortWindowInput, StreamSortEngine } from '../../oracle-store/stream-sort/engine.ts';
import { keyExpression } from '../../oracle-store/stream-sort/sort-keys.ts';
import type { RowGroupStat } from '../../oracle-store/stream-sort/window-plan.ts';

/**
 * DuckDB for the stream sort: Parquet metadata, one window's sort, and the validation stats. Files are local
 * paths (staged from S3 into /tmp by the caller) given in source-URI order, so the `filename` tie-break of
 * staged names (zero-padded ordinal prefixes) is the source order.
 */

export interface DuckDbSettings {
  memoryLimit: string;
  threads: number;
  tempDirectory: string;
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
const list = (paths: string[]) => `[${paths.map(quote).join(', ')}]`;

export async function openStreamSortEngine(s: DuckDbSettings): Promise<StreamSortEngine> {
  fs.mkdirSync(s.tempDirectory, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: s.memoryLimit,
    threads: String(s.threads),
    temp_directory: s.tempDirectory,
    preserve_insertion_order: 'false',
  });
  const connection = await instance.connect();
  const rows = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJson();

  const columns = async (paths: string[]): Promise<string[]> => {
    const described = await rows(`DESCRIBE SELECT * FROM read_parquet(${list(paths)})`);
    return described.map((r) => String(r.column_name));
  };

  return {
    columns,

    async rowGroups(files, timeKey) {
      const byPath = new Map(files.map((f) => [f.path, f.key]));
      const meta = await rows(
        `SELECT file_name, row_group_id, any_value(row_group_num_rows) AS num_rows,
                sum(total_uncompressed_size) AS bytes,
                max(CASE WHEN path_in_schema = ${quote(timeKey)} THEN epoch_us(TRY_CAST(stats_min_value AS TIMESTAMP)) END) AS min_us,
                max(CASE WHEN path_in_schema = ${quote(timeKey)} THEN epoch_us(TRY_CAST(stats_max_value AS TIMESTAMP)) END) AS max_us
         FROM parquet_metadata(${list(files.map((f) => f.path))})
         GROUP BY file_name, row_group_id ORDER BY file_name, row_group_id`,
      );
      const out: RowGroupStat[] = [];
      for (const r of meta) {
        // A row group without usable statistics on the time key: plan one window over everything.
        if (r.min_us === null || r.max_us === null) return undefined;
        out.push({
          file: byPath.get(String(r.file_name)) ?? String(r.file_name),
          rowGroup: Number(r.row_group_id),
          rows: Number(r.num_rows),
          bytes: Number(r.bytes),
          minMicros: BigInt(String(r.min_us)),
          maxMicros: BigInt(String(r.max_us)),
        });
      }
      return out;
    },

    async sortWindow(input) {
      const where = windowFilter(input.timeKey, input.window);
      const order = [...input.keys.map(keyExpression), 'filename', 'file_row_number'].join(', ');
      const out = await rows(
        `COPY (SELECT * EXCLUDE (filename, file_row_number)
               FROM read_parquet(${list(input.paths)}, filename = true, file_row_number = true)
               ${where} ORDER BY ${order})
         TO ${quote(input.outPath)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      return Number(out[0]?.Count ?? out[0]?.count ?? 0);
    },

    async rowCount(paths) {
      const [r] = await rows(
        `SELECT coalesce(sum(num_rows), 0)::BIGINT AS n FROM parquet_file_metadata(${list(paths)})`,
      );
      return Number(r?.n ?? 0);
    },

    async stats(paths, timeKey, window) {
      const sorted = (await columns(paths)).sort();
      const json = `to_json(struct_pack(${sorted.map((c) => `${ident(c)} := ${ident(c)}`).join(', ')}))`;
      const time = timeKey ? `CAST(${ident(timeKey)} AS TIMESTAMP)` : 'NULL::TIMESTAMP';
      const [r] = await rows(
        `SELECT count(*)::BIGINT AS row_count,
                strftime(min(${time}), '%Y-%m-%dT%H:%M:%S.%f') AS min_ts_utc,
                strftime(max(${time}), '%Y-%m-%dT%H:%M:%S.%f') AS max_ts_utc,
                sum(h)::HUGEINT::VARCHAR AS hash_sum,
                sum(h % 1000000007)::HUGEINT::VARCHAR AS hash_sum2
         FROM (SELECT ${time} AS ${ident(timeKey ?? '__t')}, md5_number_lower(${json}) AS h
               FROM read_parquet(${list(paths)}) ${windowFilter(timeKey, window)})`,
      );
      return {
        row_count: Number(r?.row_count ?? 0),
        hash_sum: String(r?.hash_sum ?? '0'),
        hash_sum2: String(r?.hash_sum2 ?? '0'),
        min_ts_utc: r?.min_ts_utc === null || r?.min_ts_utc === undefined ? null : String(r.min_ts_utc),
        max_ts_utc: r?.max_ts_utc === null || r?.max_ts_utc === undefined ? null : String(r.max_ts_utc),
      };
    },

    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

function windowFilter(timeKey: string | undefined, w: SortWindowInput['window']): string {
  if (!timeKey || !w) return '';
  const t = `epoch_us(CAST(${ident(timeKey)} AS TIMESTAMP))`;
  return `WHERE ${t} >= ${w.startMicros} AND ${t} ${w.last ? '<=' : '<'} ${w.endMicros}`;
}
