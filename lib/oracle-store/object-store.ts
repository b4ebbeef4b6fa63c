/**
 * Port: a tree of objects addressed by keys relative to a root (an engine run root in S3, or a directory).
 * Keys use '/' separators and never start with '/'.
 */
export interface StoredObject {
  key: string;
  size: number;
  /** Content identity when the store has one (S3 ETag, or a digest); compared only for equality. */
  etag: string | undefined;
}

/** The read side of a store: what checkers, planners and streamers need (their roles grant reads only). */
export interface ObjectReader {
  /** A printable address of the root (s3://bucket/prefix or an absolute directory). */
  readonly root: string;
  /** Every object whose key starts with `prefix` ('' for all), sorted by key. */
  list(prefix: string): Promise<StoredObject[]>;
  /** The object's bytes, or undefined when absent. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Size and, when recorded at write time, the sha256 of the object; undefined when absent. */
  head?(key: string): Promise<{ size: number; sha256: string | undefined } | undefined>;
  /** For stores on the local disk: the object's own path, so readers can use it without a copy. */
  localPath?(key: string): string;
}

/** A store written only once per key: the seal, the stream view's receipt and manifest. */
export interface WriteOnceStore extends ObjectReader {
  /** Write-once: false when the key already exists (S3 `If-None-Match: *`). */
  putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean>;
}

/** A store whose objects are also written in place: sync and the sort's part writer. Nothing in the platform deletes. */
export interface ObjectStore extends WriteOnceStore {
  put(key: string, body: Uint8Array | string, options?: { sha256?: string }): Promise<void>;
}

/** A store that can also delete: the disk and in-memory stores of tools and tests (never an S3 adapter). */
export interface DeletableObjectStore extends ObjectStore {
  delete(key: string): Promise<void>;
}
