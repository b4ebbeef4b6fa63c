import { createHash } from 'node:crypto';
import type { EngineInvocation } from '../../../lib/contracts/engine-invocation.ts';
import type { DeletableObjectStore } from '../../../lib/oracle-store/object-store.ts';
import type {
  Clock,
  ControlBusPublisher,
  EngineAttemptReport,
  EngineInvoker,
  EquivalenceRow,
  LeaseRow,
  OracleWorldReader,
  RunArtifactStore,
  RunAuthority,
  ScenarioRunnerPorts,
} from '../../../lib/scenario-runner/ports.ts';
import { memoryObjectStore } from '../oracle-store/memory-object-store.ts';

/** In-memory port fakes for the Scenario Runner core (no mocks: each behaves as its adapter promises to). */

export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public current = new Date('2026-01-01T00:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current.getTime());
  }
  advance(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
  async sleep(milliseconds: number): Promise<void> {
    this.sleeps.push(milliseconds);
  }
}

/** sr_run_equivalence + sr_run_leases in maps, with the statements' conditions. */
export class MemoryRunAuthority implements RunAuthority {
  readonly equivalence = new Map<string, EquivalenceRow>();
  readonly leases = new Map<string, LeaseRow>();
  readonly released: string[] = [];

  async registerEquivalence(entry: {
    run_equivalence_key: string;
    run_id: string;
    intent_fingerprint: string;
    seen_at: Date;
  }) {
    const existing = this.equivalence.get(entry.run_equivalence_key);
    if (existing) {
      existing.last_seen_at = entry.seen_at;
      return { row: { ...existing }, inserted: false };
    }
    const row: EquivalenceRow = {
      run_equivalence_key: entry.run_equivalence_key,
      run_id: entry.run_id,
      intent_fingerprint: entry.intent_fingerprint,
      first_seen_at: entry.seen_at,
      last_seen_at: entry.seen_at,
    };
    this.equivalence.set(entry.run_equivalence_key, row);
    return { row: { ...row }, inserted: true };
  }

  async tryAcquireLease(lease: LeaseRow): Promise<boolean> {
    const held = this.leases.get(lease.run_id);
    if (held && held.expires_at.getTime() > lease.updated_at.getTime()) return false;
    this.leases.set(lease.run_id, { ...lease });
    return true;
  }

  async renewLease(renewal: { run_id: string; lease_token: string; now: Date; expires_at: Date }) {
    const held = this.leases.get(renewal.run_id);
    if (
      !held ||
      held.lease_token !== renewal.lease_token ||
      held.expires_at.getTime() <= renewal.now.getTime()
    )
      return false;
    held.expires_at = renewal.expires_at;
    held.updated_at = renewal.now;
    return true;
  }

  async releaseLease(release: { run_id: string; lease_token: string }) {
    const held = this.leases.get(release.run_id);
    if (!held || held.lease_token !== release.lease_token) return false;
    this.leases.delete(release.run_id);
    this.released.push(release.run_id);
    return true;
  }
}

const md5 = (body: Uint8Array) => createHash('md5').update(body).digest('hex');

/** The platform bucket: write-once and If-Match with S3's answers, each operation atomic. */
export class MemoryArtifactStore implements RunArtifactStore {
  readonly root = 's3://fraud-platform';
  readonly objects = new Map<string, Uint8Array>();
  /** Test seam: when set, every If-Match put is refused (a writer that always gets in first). */
  refuseConditionalReplace = false;

  async read(key: string) {
    const body = this.objects.get(key);
    return body === undefined ? undefined : { body: new Uint8Array(body), etag: md5(body) };
  }
  async writeOnce(key: string, body: string) {
    if (this.objects.has(key)) return false;
    this.objects.set(key, new TextEncoder().encode(body));
    return true;
  }
  async overwrite(key: string, body: string) {
    this.objects.set(key, new TextEncoder().encode(body));
  }
  async replaceIfMatch(key: string, body: string, etag: string) {
    const current = this.objects.get(key);
    if (this.refuseConditionalReplace || current === undefined || md5(current) !== etag) return false;
    this.objects.set(key, new TextEncoder().encode(body));
    return true;
  }
  text(key: string): string | undefined {
    const body = this.objects.get(key);
    return body === undefined ? undefined : new TextDecoder().decode(body);
  }
  json(key: string): unknown {
    const text = this.text(key);
    return text === undefined ? undefined : JSON.parse(text);
  }
  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

/** Engine worlds by root address; a root with no objects is "not there". */
export class MemoryWorldReader implements OracleWorldReader {
  readonly worlds = new Map<string, DeletableObjectStore>();
  add(root: string, store: DeletableObjectStore = memoryObjectStore(root)): DeletableObjectStore {
    this.worlds.set(root, store);
    return store;
  }
  async open(root: string) {
    const store = this.worlds.get(root);
    if (!store || (await store.list('')).length === 0) return undefined;
    return store;
  }
}

export class MemoryControlBus implements ControlBusPublisher {
  readonly records: { stream_record: string; partition_key: string; message_id: string }[] = [];
  failing = false;
  async publish(record: { stream_record: string; partition_key: string; message_id: string }) {
    if (this.failing) throw new Error('kinesis unavailable');
    this.records.push(record);
    return { offset: String(this.records.length) };
  }
}

/** An engine that "runs" by calling `produce` (e.g. building a world at the invocation's root). */
export class FakeEngine implements EngineInvoker {
  readonly invocations: EngineInvocation[] = [];
  constructor(private readonly produce: (invocation: EngineInvocation) => Promise<EngineAttemptReport>) {}
  async invoke(invocation: EngineInvocation): Promise<EngineAttemptReport> {
    this.invocations.push(invocation);
    return this.produce(invocation);
  }
}

export interface FakePorts extends ScenarioRunnerPorts {
  authority: MemoryRunAuthority;
  artifacts: MemoryArtifactStore;
  world: MemoryWorldReader;
  bus: MemoryControlBus;
  clock: FakeClock;
}

export function fakePorts(engine?: EngineInvoker): FakePorts {
  return {
    authority: new MemoryRunAuthority(),
    artifacts: new MemoryArtifactStore(),
    world: new MemoryWorldReader(),
    bus: new MemoryControlBus(),
    clock: new FakeClock(),
    ...(engine ? { engine } : {}),
  };
}
