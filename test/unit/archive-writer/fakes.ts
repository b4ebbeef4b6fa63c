import {
  type ArchiveLedger,
  type ArchiveWriterPorts,
  type CheckpointAdvance,
  type CounterDelta,
  type GovernanceSink,
  type LedgerKey,
  type LedgerRow,
  type LedgerTransaction,
  ledgerKeyText,
  type SegmentStore,
} from '../../../lib/archive-writer/ports.ts';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import type { PlatformGovernanceEvent } from '../../../lib/contracts/governance.ts';

/** In-memory fakes of the Archive Writer's ports (no mocks of the code under test). */

export interface MismatchRow {
  key: string;
  observed_payload_hash: string;
  seen_count: number;
}

export interface LedgerState {
  rows: Map<string, LedgerRow & { seen_count: number; mismatch_count: number }>;
  mismatches: Map<string, MismatchRow>;
  counters: Map<string, CounterDelta>;
  checkpoints: Map<string, CheckpointAdvance>;
  /** The order rows were inserted, for the summary's recent refs. */
  order: string[];
}

const emptyState = (): LedgerState => ({
  rows: new Map(),
  mismatches: new Map(),
  counters: new Map(),
  checkpoints: new Map(),
  order: [],
});

function cloneState(s: LedgerState): LedgerState {
  return {
    rows: new Map([...s.rows].map(([k, v]) => [k, { ...v }])),
    mismatches: new Map([...s.mismatches].map(([k, v]) => [k, { ...v }])),
    counters: new Map([...s.counters].map(([k, v]) => [k, { ...v }])),
    checkpoints: new Map([...s.checkpoints].map(([k, v]) => [k, { ...v }])),
    order: [...s.order],
  };
}

function addCounters(state: LedgerState, deltas: readonly CounterDelta[]) {
  for (const d of deltas) {
    const k = `${d.stream_id}|${d.topic}|${d.metric}`;
    const current = state.counters.get(k);
    if (current) current.delta += d.delta;
    else state.counters.set(k, { ...d });
  }
}

/** A ledger whose commit applies all of its statements or none; `beforeInsert` simulates another writer. */
export function fakeLedger() {
  let state = emptyState();
  const hooks: {
    beforeInsert?: ((rows: readonly LedgerRow[], draft: LedgerState) => void) | undefined;
    commits: number;
  } = { commits: 0 };
  const find = (s: LedgerState, keys: readonly LedgerKey[]) =>
    keys.flatMap((k) => {
      const row = s.rows.get(ledgerKeyText(k));
      return row ? [{ ...row }] : [];
    });
  const tx = (s: LedgerState): LedgerTransaction => ({
    async insertNew(rows) {
      hooks.beforeInsert?.(rows, s);
      const inserted = new Set<string>();
      for (const r of rows) {
        const k = ledgerKeyText(r);
        if (s.rows.has(k)) continue;
        s.rows.set(k, { ...r, seen_count: 1, mismatch_count: 0 });
        s.order.push(k);
        inserted.add(k);
      }
      return inserted;
    },
    find: async (keys) => find(s, keys),
    async observe(observations) {
      for (const o of observations) {
        const k = ledgerKeyText(o.key);
        const row = s.rows.get(k);
        if (!row) throw new Error(`observe: no row at ${k}`);
        row.seen_count++;
        if (o.outcome !== 'PAYLOAD_MISMATCH') continue;
        row.mismatch_count++;
        const mk = `${k}|${o.observed_payload_hash}`;
        const m = s.mismatches.get(mk);
        if (m) m.seen_count++;
        else s.mismatches.set(mk, { key: k, observed_payload_hash: o.observed_payload_hash, seen_count: 1 });
      }
    },
    addCounters: async (deltas) => addCounters(s, deltas),
    async advance(checkpoints) {
      for (const c of checkpoints) {
        const k = `${c.stream_id}|${c.topic}|${c.partition_id}`;
        const current = s.checkpoints.get(k);
        if (!current || BigInt(c.next_offset) > BigInt(current.next_offset)) s.checkpoints.set(k, { ...c });
      }
    },
  });
  const ledger: ArchiveLedger = {
    find: async (keys) => find(state, keys),
    async commit(work) {
      const draft = cloneState(state);
      const result = await work(tx(draft));
      state = draft;
      hooks.commits++;
      return result;
    },
    addCounters: async (deltas) => addCounters(state, deltas),
    async summary(streamId, refLimit) {
      return {
        counters: [...state.counters.values()]
          .filter((c) => c.stream_id === streamId)
          .map((c) => ({ topic: c.topic, metric: c.metric, value: c.delta })),
        recent_refs: state.order
          .map((k) => state.rows.get(k) as LedgerRow)
          .filter((r) => r.stream_id === streamId)
          .slice(-refLimit)
          .map((r) => r.archive_ref),
      };
    },
  };
  return {
    ledger,
    hooks,
    get state() {
      return state;
    },
    /** The counters of a scope as `{metric: value}` (summed over topics). */
    counters(streamId: string): Record<string, number> {
      const out: Record<string, number> = {};
      for (const c of state.counters.values())
        if (c.stream_id === streamId) out[c.metric] = (out[c.metric] ?? 0) + c.delta;
      return out;
    },
  };
}

/** Objects in memory; `failing` makes every put throw; `read` answers a ref's bytes as S3 would. */
export function fakeSegments(bucket = 'fraud-platform') {
  const objects = new Map<string, string>();
  const control = { failing: false, puts: 0 };
  const store: SegmentStore = {
    async putOnce(key, body) {
      control.puts++;
      if (control.failing) throw new Error('S3 unavailable');
      if (objects.has(key)) return false;
      objects.set(key, body);
      return true;
    },
    refOf: (key) => `s3://${bucket}/${key}`,
  };
  function read(ref: string): string | undefined {
    const m = /^s3:\/\/[^/]+\/([^#]+)#bytes=(\d+)-(\d+)$/.exec(ref);
    if (!m) throw new Error(`not a byte-range ref: ${ref}`);
    const body = objects.get(m[1] as string);
    if (body === undefined) return undefined;
    return Buffer.from(body, 'utf8')
      .subarray(Number(m[2]), Number(m[3]) + 1)
      .toString('utf8');
  }
  return { store, objects, control, read };
}

export function fakeGovernance() {
  const events = new Map<string, PlatformGovernanceEvent>();
  const sink: GovernanceSink = {
    async emit(event) {
      canonicalJson(event);
      if (events.has(event.event_id)) return false;
      events.set(event.event_id, event);
      return true;
    },
  };
  return { sink, events };
}

export function fakePorts(now = new Date('2026-03-08T00:05:00.123456Z')) {
  const ledger = fakeLedger();
  const segments = fakeSegments();
  const governance = fakeGovernance();
  const ports: ArchiveWriterPorts = {
    ledger: ledger.ledger,
    segments: segments.store,
    governance: governance.sink,
    now: () => now,
  };
  return { ports, ledger, segments, governance };
}
