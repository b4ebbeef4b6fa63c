// Minimal typings for the two emulators that ship none.
declare module 'kinesalite' {
  import type { Server } from 'node:http';

  interface KinesaliteOptions {
    path?: string;
    ssl?: boolean;
    createStreamMs?: number;
    deleteStreamMs?: number;
    updateStreamMs?: number;
    shardLimit?: number;
  }
  function kinesalite(options?: KinesaliteOptions): Server;
  export default kinesalite;
}

declare module 's3rver' {
  import type { Server } from 'node:http';

  export interface KoaLikeContext {
    method: string;
    path: string;
    query: Record<string, unknown>;
    status: number;
    type: string;
    body: unknown;
    /** The Node request (Koa's `ctx.req`). */
    req: import('node:http').IncomingMessage;
    /** The Node response (Koa's `ctx.res`). */
    res: import('node:http').ServerResponse;
    get(header: string): string;
  }
  type Middleware = (ctx: KoaLikeContext, next: () => Promise<unknown>) => Promise<unknown>;
  interface S3rverOptions {
    directory: string;
    address?: string;
    port?: number;
    silent?: boolean;
    configureBuckets?: Array<{ name: string }>;
  }
  export interface S3Store {
    existsObject(bucket: string, key: string): Promise<boolean>;
    getMetadata(bucket: string, key: string): Promise<{ etag?: string }>;
  }
  class S3rver {
    constructor(options: S3rverOptions);
    middleware: Middleware[];
    store: S3Store;
    httpServer?: Server;
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
  export default S3rver;
}

declare module 'asl-validator' {
  interface ValidationResult {
    isValid: boolean;
    errors: Array<Record<string, unknown>>;
    errorsText(separator?: string): string;
  }
  function validator(
    definition: unknown,
    opts?: { checkPaths?: boolean; checkArn?: boolean },
  ): ValidationResult;
  export = validator;
}
