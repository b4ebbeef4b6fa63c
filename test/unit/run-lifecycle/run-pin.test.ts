import { describe, expect, it } from 'vitest';
import type { PlatformRunId, RunPinRecord } from '../../../lib/contracts/platform-run.ts';
import {
  InvalidPlatformRunId,
  pinRun,
  RunAlreadyPinned,
  type RunObjectStore,
  type RunRegistry,
} from '../../../lib/run-lifecycle/run-pin.ts';

/** Postgres twin: a table of runs (insert-once) and a singleton active-run row. */
class InMemoryRunRegistry implements RunRegistry {
  readonly runs = new Map<string, RunPinRecord>();
  active: PlatformRunId | undefined;
  async createRun(record: RunPinRecord): Promise<boolean> {
    if (this.runs.has(record.platform_run_id)) return false;
    this.runs.set(record.platform_run_id, record);
    return true;
  }
  async setActiveRun(id: PlatformRunId): Promise<void> {
    this.active = id;
  }
  async activeRun(): Promise<PlatformRunId | undefined> {
    return this.active;
  }
}

/** S3 twin: write-once pin records under `<id>/run_pin.json` and an overwritable ACTIVE_RUN_ID pointer. */
class InMemoryRunObjectStore implements RunObjectStore {
  readonly objects = new Map<string, string>();
  /** When set, what reading the pointer returns instead of what was written (a lagging or foreign writer). */
  pointerOverride: string | undefined;
  async writePinRecord(record: RunPinRecord): Promise<{ created: boolean; ref: string }> {
    const key = `${record.platform_run_id}/run_pin.json`;
    const created = !this.objects.has(key);
    if (created) this.objects.set(key, JSON.stringify(record));
    return { created, ref: `s3://platform/${key}` };
  }
  async writeActiveRunPointer(id: PlatformRunId): Promise<string> {
    this.objects.set('ACTIVE_RUN_ID', id);
    return 's3://platform/ACTIVE_RUN_ID';
  }
  async readActiveRunPointer(): Promise<string | undefined> {
    return this.pointerOverride ?? this.objects.get('ACTIVE_RUN_ID');
  }
}

const NOW = new Date('2026-11-22T02:29:32.123Z');

function ports() {
  return { registry: new InMemoryRunRegistry(), store: new InMemoryRunObjectStore() };
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection, but the promise resolved');
}

describe('pinRun', () => {
  it('a fresh pin takes the id of the current second, is active in both stores and returns evidence refs', async () => {
    const { registry, store } = ports();
    const result = await pinRun({ pinnedBy: 'operator@example', now: NOW }, registry, store);

    expect(result).toEqual({
      platform_run_id: 'platform_20261122T022932Z',
      active: true,
      evidence: {
        run_pin_ref: 's3://platform/platform_20261122T022932Z/run_pin.json',
        active_run_ref: 's3://platform/ACTIVE_RUN_ID',
        postgres_active_run: 'platform_20261122T022932Z',
      },
    });
    const expectedRecord = {
      platform_run_id: 'platform_20261122T022932Z',
      pinned_at_utc: '2026-11-22T02:29:32.123Z',
      pinned_by: 'operator@example',
    };
    expect(registry.runs.get('platform_20261122T022932Z')).toEqual(expectedRecord);
    expect(JSON.parse(store.objects.get('platform_20261122T022932Z/run_pin.json') ?? 'null')).toEqual(
      expectedRecord,
    );
    expect(store.objects.get('ACTIVE_RUN_ID')).toBe('platform_20261122T022932Z');
  });

  it('two pins in the same second get distinct ids, the second one second later, and the last one is active', async () => {
    const { registry, store } = ports();
    const first = await pinRun({ pinnedBy: 'a', now: NOW }, registry, store);
    const second = await pinRun({ pinnedBy: 'b', now: new Date(NOW.getTime() + 400) }, registry, store);

    expect(first.platform_run_id).toBe('platform_20261122T022932Z');
    expect(second.platform_run_id).toBe('platform_20261122T022933Z');
    expect(second.active).toBe(true);
    expect(registry.active).toBe('platform_20261122T022933Z');
    expect(store.objects.get('ACTIVE_RUN_ID')).toBe('platform_20261122T022933Z');
    expect([...registry.runs.keys()]).toEqual(['platform_20261122T022932Z', 'platform_20261122T022933Z']);
  });

  it('a requested well-formed, unused id is pinned as given', async () => {
    const { registry, store } = ports();
    const result = await pinRun(
      { requested: 'platform_20200101T000000Z', pinnedBy: 'replay', now: NOW },
      registry,
      store,
    );
    expect(result.platform_run_id).toBe('platform_20200101T000000Z');
    expect(result.active).toBe(true);
    expect(registry.runs.get('platform_20200101T000000Z')?.pinned_at_utc).toBe(NOW.toISOString());
  });

  it.each([
    'platform_20261322T022932Z',
    'platform_20260230T022932Z',
    'run_20261122T022932Z',
    'platform_20261122T022932z',
    '',
  ])('a requested malformed id %j throws INVALID_PLATFORM_RUN_ID and writes nothing', async (requested) => {
    const { registry, store } = ports();
    const error = await rejectionOf(pinRun({ requested, pinnedBy: 'x', now: NOW }, registry, store));
    expect(error).toBeInstanceOf(InvalidPlatformRunId);
    expect(error.name).toBe('INVALID_PLATFORM_RUN_ID');
    expect(error.message).toContain(JSON.stringify(requested));
    expect(registry.runs.size).toBe(0);
    expect(store.objects.size).toBe(0);
  });

  it('a requested id that is already pinned throws RUN_ALREADY_PINNED and leaves the active run alone', async () => {
    const { registry, store } = ports();
    await pinRun({ requested: 'platform_20200101T000000Z', pinnedBy: 'a', now: NOW }, registry, store);
    await pinRun({ pinnedBy: 'b', now: NOW }, registry, store);

    const error = await rejectionOf(
      pinRun({ requested: 'platform_20200101T000000Z', pinnedBy: 'c', now: NOW }, registry, store),
    );
    expect(error).toBeInstanceOf(RunAlreadyPinned);
    expect(error.name).toBe('RUN_ALREADY_PINNED');
    expect(error.message).toContain('platform_20200101T000000Z is already pinned');
    expect(registry.active).toBe('platform_20261122T022932Z');
    expect(registry.runs.get('platform_20200101T000000Z')?.pinned_by).toBe('a');
  });

  it('is not active when the object store pointer reads back another run', async () => {
    const { registry, store } = ports();
    store.pointerOverride = 'platform_19991231T235959Z';
    const result = await pinRun({ pinnedBy: 'x', now: NOW }, registry, store);
    expect(result.platform_run_id).toBe('platform_20261122T022932Z');
    expect(result.active).toBe(false);
    expect(result.evidence.postgres_active_run).toBe('platform_20261122T022932Z');
  });

  it('is not active when Postgres reads back another run', async () => {
    const { registry, store } = ports();
    registry.setActiveRun = async () => undefined; // the write is lost
    registry.active = 'platform_19991231T235959Z';
    const result = await pinRun({ pinnedBy: 'x', now: NOW }, registry, store);
    expect(result.active).toBe(false);
    expect(result.evidence.postgres_active_run).toBe('platform_19991231T235959Z');
  });

  it('an id whose pin record already exists in S3 (Postgres reset) is skipped for the next second', async () => {
    const { registry, store } = ports();
    const foreign = JSON.stringify({ platform_run_id: 'platform_20261122T022932Z', pinned_by: 'earlier' });
    store.objects.set('platform_20261122T022932Z/run_pin.json', foreign);
    const writes: string[] = [];
    const write = store.writePinRecord.bind(store);
    store.writePinRecord = async (record) => {
      writes.push(record.platform_run_id);
      return write(record);
    };

    const result = await pinRun({ pinnedBy: 'x', now: NOW }, registry, store);

    expect(writes).toEqual(['platform_20261122T022932Z', 'platform_20261122T022933Z']);
    expect(result.platform_run_id).toBe('platform_20261122T022933Z');
    expect(result.active).toBe(true);
    expect(result.evidence.run_pin_ref).toBe('s3://platform/platform_20261122T022933Z/run_pin.json');
    expect(registry.active).toBe('platform_20261122T022933Z');
    expect(store.objects.get('ACTIVE_RUN_ID')).toBe('platform_20261122T022933Z');
    // the existing pin record is left as it was
    expect(store.objects.get('platform_20261122T022932Z/run_pin.json')).toBe(foreign);
  });

  it('a requested id whose pin record already exists in S3 is refused as already pinned', async () => {
    const { registry, store } = ports();
    store.objects.set('platform_20200101T000000Z/run_pin.json', '{}');
    const error = await rejectionOf(
      pinRun({ requested: 'platform_20200101T000000Z', pinnedBy: 'x', now: NOW }, registry, store),
    );
    expect(error.name).toBe('RUN_ALREADY_PINNED');
    expect(registry.active).toBeUndefined();
    expect(store.objects.has('ACTIVE_RUN_ID')).toBe(false);
  });

  it('tries exactly five seconds: the fifth taken second still pins, a sixth pin in the window throws', async () => {
    const { registry, store } = ports();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await pinRun({ pinnedBy: 'x', now: NOW }, registry, store)).platform_run_id);
    expect(ids).toEqual([
      'platform_20261122T022932Z',
      'platform_20261122T022933Z',
      'platform_20261122T022934Z',
      'platform_20261122T022935Z',
      'platform_20261122T022936Z',
    ]);

    const error = await rejectionOf(pinRun({ pinnedBy: 'x', now: NOW }, registry, store));
    expect(error.name).toBe('RUN_ALREADY_PINNED');
    expect(error.message).toContain(`within 5 s of ${NOW.toISOString()}`);
    expect(registry.runs.size).toBe(5);
    expect(registry.active).toBe('platform_20261122T022936Z');
  });
});
