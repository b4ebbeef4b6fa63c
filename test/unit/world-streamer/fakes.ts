import type { CanonicalEnvelope } from '../../../lib/contracts/envelope.ts';
import type {
  CheckpointKey,
  CheckpointStore,
  Clock,
  GovernanceSink,
  IngestionGateClient,
  IngestResponse,
  ReadyClaim,
  ReadyRunStore,
  Sleeper,
  StreamLog,
  StreamRunStarter,
  StreamViewReader,
} from '../../../lib/world-streamer/ports.ts';
import type {
  Checkpoint,
  GovernanceEvent,
  ReadyRecordLine,
  StreamRunInput,
  StreamViewRow,
} from '../../../lib/world-streamer/stream-contracts.ts';

/** In-memory port fakes for the World Streamer unit tests (no mocks of the code under test). */

/** A virtual clock: `sleep` advances it, so pacing is observable without waiting. */
export function virtualTime(startMs = Date.parse('2026-01-01T00:00:00Z')) {
  let nowMs = startMs;
  const sleeps: number[] = [];
  const clock: Clock = { now: () => new Date(nowMs) };
  const sleeper: Sleeper = {
    async sleep(ms) {
      sleeps.push(ms);
      nowMs += ms;
    },
  };
  return {
    clock,
    sleeper,
    sleeps,
    advance: (ms: number) => {
      nowMs += ms;
    },
    nowMs: () => nowMs,
  };
}

export function memoryLog(): StreamLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (line) => lines.push(line), warn: (line) => lines.push(line) };
}

/**
 * An idempotent IG: the first push of an event_id is ADMIT, later ones DUPLICATE (both 200). `script` answers
 * the n-th push or batch call (1-based) with a status first, or throws for 'timeout'. `itemError` answers one
 * item of a batch with an error of its own (`retryable` as IG marks it). `calls` lists every envelope sent,
 * `batches` the size of each batch call.
 */
export function memoryIngestionGate(
  script: (call: number, envelope: CanonicalEnvelope) => number | 'timeout' | undefined = () => undefined,
  itemError: (envelope: CanonicalEnvelope) => { error: string; retryable: boolean } | undefined = () =>
    undefined,
) {
  const admitted = new Map<string, CanonicalEnvelope>();
  const calls: CanonicalEnvelope[] = [];
  const batches: number[] = [];
  let callCount = 0;
  const scripted = (envelope: CanonicalEnvelope): IngestResponse | undefined => {
    callCount += 1;
    const answer = script(callCount, envelope);
    if (answer === 'timeout') throw new Error('timeout');
    if (answer !== undefined && answer !== 200)
      return { status: answer, body: JSON.stringify({ error: `HTTP_${answer}`, detail: 'x'.repeat(300) }) };
    return undefined;
  };
  const decide = (envelope: CanonicalEnvelope) => {
    const duplicate = admitted.has(envelope.event_id);
    if (!duplicate) admitted.set(envelope.event_id, envelope);
    return duplicate ? 'DUPLICATE' : 'ADMIT';
  };
  const client: IngestionGateClient = {
    async push(envelope): Promise<IngestResponse> {
      calls.push(envelope);
      const early = scripted(envelope);
      if (early) return early;
      return { status: 200, body: JSON.stringify({ decision: decide(envelope) }) };
    },
    async pushBatch(envelopes): Promise<IngestResponse> {
      calls.push(...envelopes);
      batches.push(envelopes.length);
      const early = scripted(envelopes[0] as CanonicalEnvelope);
      if (early) return early;
      const results = envelopes.map((envelope, index) => {
        const error = itemError(envelope);
        return error ? { index, ...error, detail: 'scripted' } : { index, decision: decide(envelope) };
      });
      return { status: 200, body: JSON.stringify({ results }) };
    },
  };
  return { client, admitted, calls, batches };
}

/** A checkpoint table with compare-and-set on `version`; `failSaves` makes the next saves throw (a crash). */
export function memoryCheckpoints() {
  const rows = new Map<string, Checkpoint>();
  const id = (key: CheckpointKey) => `${key.scopeKey}|${key.outputId}`;
  let failSaves = 0;
  const store: CheckpointStore = {
    async load(key) {
      const row = rows.get(id(key));
      return row === undefined ? undefined : structuredClone(row);
    },
    async save(checkpoint, expectedVersion) {
      if (failSaves > 0) {
        failSaves -= 1;
        throw new Error('connection reset');
      }
      const key = id({ scopeKey: checkpoint.scope_key, outputId: checkpoint.output_id });
      if ((rows.get(key)?.version ?? 0) !== expectedVersion) return false;
      rows.set(key, structuredClone(checkpoint));
      return true;
    },
  };
  return {
    store,
    rows,
    crashNextSaves: (n: number) => {
      failSaves = n;
    },
  };
}

/** A stream view of `parts` (each an array of rows), read by global row offset in part order. */
export function memoryStreamViews(views: Record<string, Record<string, unknown>[][]>) {
  const reads: { outputId: string; fromRow: number; limit: number }[] = [];
  const reader: StreamViewReader = {
    async read({ outputId, fromRow, limit }) {
      reads.push({ outputId, fromRow, limit });
      const flat: StreamViewRow[] = (views[outputId] ?? []).flatMap((part, p) =>
        part.map((row, i) => ({
          file: `part-${String(p).padStart(6, '0')}.parquet`,
          file_row_index: i,
          row,
        })),
      );
      return flat.slice(fromRow, fromRow + limit);
    },
  };
  return { reader, reads };
}

export function memoryReadyRuns(initial: Record<string, { status: string; attempt: number }> = {}) {
  const state = new Map(Object.entries(initial));
  const lines: ReadyRecordLine[] = [];
  const store: ReadyRunStore = {
    async claim(messageId): Promise<ReadyClaim> {
      const row = state.get(messageId);
      if (row === undefined) {
        state.set(messageId, { status: 'IN_PROGRESS', attempt: 1 });
        return { kind: 'claimed', attempt: 1 };
      }
      if (row.status === 'STREAMED' || row.status === 'SKIPPED_OUT_OF_SCOPE') {
        return { kind: 'final', status: row.status };
      }
      if (row.status === 'FAILED') {
        state.set(messageId, { status: 'IN_PROGRESS', attempt: row.attempt + 1 });
        return { kind: 'claimed', attempt: row.attempt + 1 };
      }
      return { kind: 'in_progress', attempt: row.attempt };
    },
    async record(line) {
      lines.push(line);
      const row = state.get(line.message_id);
      state.set(line.message_id, { status: line.status, attempt: row?.attempt ?? 1 });
    },
  };
  return { store, state, lines };
}

export function memoryGovernance() {
  const events = new Map<string, GovernanceEvent>();
  const sink: GovernanceSink = {
    async emit(event) {
      if (events.has(event.event_id)) return false;
      events.set(event.event_id, event);
      return true;
    },
  };
  return { sink, events, families: () => [...events.values()].map((e) => e.event_family) };
}

/** Step Functions' name semantics: a running execution starts again idempotently, an ended one is refused. */
export function memoryStarter() {
  const executions = new Map<string, StreamRunInput>();
  const ended = new Set<string>();
  const starter: StreamRunStarter = {
    async start(name, input) {
      if (ended.has(name)) return { started: false };
      if (executions.has(name))
        return { started: JSON.stringify(executions.get(name)) === JSON.stringify(input) };
      executions.set(name, input);
      return { started: true };
    },
  };
  /** The execution `name` ends (without its finish step having recorded anything). */
  const end = (name: string) => ended.add(name);
  return { starter, executions, end };
}
