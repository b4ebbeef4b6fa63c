import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
  INTEGER,
  SMALLINT,
  UBIGINT,
  UTINYINT,
  VARCHAR,
} from '@duckdb/node-api';

/**
 * Parquet through DuckDB: plan columns are staged into in-memory tables with the appender (whole data
 * chunks, no per-row SQL), and each part file is one `COPY (SELECT …) TO … (FORMAT parquet)`, so joins,
 * string formatting and compression run natively. Output bytes are a function of the rows: each COPY
 * has a total ORDER BY, and DuckDB's writer cuts row groups at fixed sizes.
 */
export type StagedColumn =
  | { readonly name: string; readonly type: 'INTEGER'; readonly data: Int32Array }
  | { readonly name: string; readonly type: 'SMALLINT'; readonly data: Int16Array }
  | { readonly name: string; readonly type: 'UTINYINT'; readonly data: Uint8Array }
  | { readonly name: string; readonly type: 'DOUBLE'; readonly data: Float64Array }
  | { readonly name: string; readonly type: 'BIGINT'; readonly data: BigInt64Array }
  | { readonly name: string; readonly type: 'UBIGINT'; readonly data: BigUint64Array }
  | { readonly name: string; readonly type: 'BOOLEAN'; readonly data: Uint8Array }
  | { readonly name: string; readonly type: 'VARCHAR'; readonly data: readonly string[] };

const DUCK_TYPE: Readonly<Record<StagedColumn['type'], DuckDBType>> = {
  INTEGER,
  SMALLINT,
  UTINYINT,
  DOUBLE,
  BIGINT,
  UBIGINT,
  BOOLEAN,
  VARCHAR,
};

/** DuckDB's vector size: the largest data chunk the appender takes. */
const CHUNK_ROWS = 2048;

function sliceValues(column: StagedColumn, start: number, end: number): DuckDBValue[] {
  switch (column.type) {
    case 'BOOLEAN':
      return Array.from(column.data.subarray(start, end), (v) => v === 1);
    case 'VARCHAR':
      return column.data.slice(start, end);
    case 'BIGINT':
    case 'UBIGINT':
      return Array.from<bigint>(column.data.subarray(start, end));
    default:
      return Array.from<number>(column.data.subarray(start, end));
  }
}

/** SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export class ParquetSession {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(threads = 2): Promise<ParquetSession> {
    const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
    const connection = await instance.connect();
    return new ParquetSession(instance, connection);
  }

  async run(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  async query(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJS();
  }

  /** Creates `table` and fills it with the columns (all of one length). */
  async stage(table: string, columns: readonly StagedColumn[]): Promise<void> {
    const rows = columns[0]?.data.length ?? 0;
    for (const column of columns) {
      if (column.data.length !== rows)
        throw new Error(`staging ${table}: column ${column.name} length differs`);
    }
    await this.run(`CREATE TABLE ${table} (${columns.map((c) => `${c.name} ${c.type}`).join(', ')})`);
    const appender = await this.connection.createAppender(table);
    const chunk = DuckDBDataChunk.create(columns.map((c) => DUCK_TYPE[c.type]));
    for (let start = 0; start < rows; start += CHUNK_ROWS) {
      const end = Math.min(rows, start + CHUNK_ROWS);
      chunk.reset();
      chunk.rowCount = end - start;
      chunk.setColumns(columns.map((c) => sliceValues(c, start, end)));
      appender.appendDataChunk(chunk);
    }
    appender.closeSync();
  }

  /** Writes the rows of `select` (which must order them totally) to one zstd Parquet file. */
  async copyToParquet(select: string, file: string): Promise<void> {
    await this.run(`COPY (${select}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
