import type { CanonicalEnvelope } from '../contracts/envelope.ts';
import { PlatformError } from '../errors/platform-error.ts';
import type { ObjectReader } from '../oracle-store/object-store.ts';
import type { FinalReadyStatus } from './reason-codes.ts';
import type {
  Checkpoint,
  GovernanceEvent,
  ReadyRecordLine,
  StreamRunInput,
  StreamViewRow,
} from './stream-contracts.ts';

/**
 * Ports of the World Streamer core (control-ingress.md §4). Adapters: Postgres (ready runs, checkpoints, active
 * run), S3 (facts view, engine run root, governance), DuckDB (stream views), HTTP (IG), Step Functions (starter).
 */

/** What claiming a READY message_id found (§4.1 step 1, §10 "Control bus"). */
export type ReadyClaim =
  /** First sight, or the last attempt FAILED: a new attempt (1, 2, …) now IN_PROGRESS. */
  | { kind: 'claimed'; attempt: number }
  /**
   * An attempt is IN_PROGRESS (a redelivery, or a crash between claim and start): start it again, idempotently.
   * If its execution has already ended, it ended without recording its result: that attempt is recorded FAILED and
   * the next one starts.
   */
  | { kind: 'in_progress'; attempt: number }
  /** STREAMED or SKIPPED_OUT_OF_SCOPE already recorded: SKIPPED_DUPLICATE, nothing appended. */
  | { kind: 'final'; status: FinalReadyStatus };

/**
 * READY dedupe + ready record (Postgres: `INSERT … ON CONFLICT DO UPDATE … WHERE status = 'FAILED' RETURNING`).
 * `claim` is atomic; `record` appends the line to the message's ready record and sets its status (a FAILED line
 * releases the message for a later attempt, a final one closes it).
 */
export interface ReadyRunStore {
  claim(messageId: string, at: Date): Promise<ReadyClaim>;
  record(line: ReadyRecordLine): Promise<void>;
}

/** Loads the run facts view a READY names (`s3://…`, absolute, or relative to the platform store root). */
export interface RunFactsReader {
  /** The parsed JSON (lossless), or undefined when absent; throws when unreadable. */
  read(factsViewRef: string): Promise<unknown>;
}

/** §4.1 step 4: the platform run WSP is scoped to (`PLATFORM_RUN_ID` / the pinned active run), if any. */
export interface ActiveRunReader {
  activePlatformRunId(): Promise<string | undefined>;
}

/**
 * Starts the `stream-run` state machine, with Step Functions' name semantics: `started: true` when an execution of
 * that name runs with this input (just started, or already running: StartExecution is idempotent then);
 * `started: false` when one of that name has already ended (ExecutionAlreadyExists), so nothing runs now.
 */
export interface StreamRunStarter {
  start(name: string, input: StreamRunInput): Promise<{ started: boolean }>;
}

/** Governance facts, write-once by `event_id` (`<prefix>/obs/governance/events/{id}.json` + events.jsonl). */
export interface GovernanceSink {
  /** true when written, false when an event with this id already exists. */
  emit(event: GovernanceEvent): Promise<boolean>;
}

/**
 * The engine run root, read-only (§4.2, §4.3): the oracle store's ObjectStore port, so the S3 and file adapters
 * serve as they are. Keys are relative to the root; `root` must be the string the stream sort used.
 */
export type EngineRunStore = Pick<ObjectReader, 'root' | 'list' | 'get'>;

export interface EngineRunOpener {
  open(engineRunRoot: string): EngineRunStore;
}

/** §4.2 step 7 the producer allowlist text (`#` comments); undefined when it does not exist. */
export interface ProducerAllowlistSource {
  /** Throws `AllowlistUnsupported` for a ref it cannot read by design, anything else when unreadable. */
  read(): Promise<string | undefined>;
}

export class AllowlistUnsupported extends PlatformError<'PRODUCER_ALLOWLIST_UNSUPPORTED'> {
  constructor(message: string) {
    super('PRODUCER_ALLOWLIST_UNSUPPORTED', message);
  }
}

export interface StreamViewReadRequest {
  engineRunRoot: string;
  outputId: string;
  /** Row offset in view order: parts (`part-NNNNNN.parquet` under `stream_view/ts_utc/output_id=<id>/`) by name, then row number. */
  fromRow: number;
  limit: number;
}

/**
 * Reads one output's stream view (DuckDB over its parts; int64 as BigInt). Returns rows
 * `[fromRow, fromRow + limit)` in view order; fewer than `limit` only when the view ends.
 */
export interface StreamViewReader {
  read(request: StreamViewReadRequest): Promise<StreamViewRow[]>;
}

/** An IG answer: the HTTP status and the body text. */
export interface IngestResponse {
  status: number;
  body: string;
}

/**
 * `POST {ig}/v1/ingest/push` with `X-IG-Api-Key`, timeout 30 s (§4.7); the envelope is written with lossless
 * canonical JSON. Throws on a timeout or a connection error (both retried).
 */
export interface IngestionGateClient {
  push(envelope: CanonicalEnvelope): Promise<IngestResponse>;
  /** `POST {ig}/v1/ingest/batch` with `{"envelopes": [...]}` (1–500), the same headers and timeout. */
  pushBatch(envelopes: readonly CanonicalEnvelope[]): Promise<IngestResponse>;
}

export interface CheckpointKey {
  scopeKey: string;
  outputId: string;
}

/**
 * §4.6 `wsp_checkpoint` (PK scope key + output_id). `save` is compare-and-set on `version`: it writes iff the
 * stored version is `expectedVersion` (0 = no row yet), e.g. `INSERT … ON CONFLICT DO UPDATE … WHERE version = $n`.
 */
export interface CheckpointStore {
  load(key: CheckpointKey): Promise<Checkpoint | undefined>;
  save(checkpoint: Checkpoint, expectedVersion: number): Promise<boolean>;
}

export interface Clock {
  now(): Date;
}

export interface Sleeper {
  sleep(ms: number): Promise<void>;
}

/** Uniform in [0, 1): backoff jitter. */
export type RandomSource = () => number;

/** Narrative and progress lines (§4.8). */
export interface StreamLog {
  info(line: string): void;
  warn(line: string): void;
}
