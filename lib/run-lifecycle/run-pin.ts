import {
  PlatformRunId,
  platformRunIdAt,
  type RunPinRecord,
  type RunPinRequest,
  type RunStreamSettings,
} from '../contracts/platform-run.ts';
import { PlatformError } from '../errors/platform-error.ts';

/** P1 RUN_PINNED: create a fresh platform_run_id and make it the active run everywhere. */

export class InvalidPlatformRunId extends PlatformError<'INVALID_PLATFORM_RUN_ID'> {
  constructor(message: string) {
    super('INVALID_PLATFORM_RUN_ID', message, { httpStatus: 400 });
  }
}
export class RunAlreadyPinned extends PlatformError<'RUN_ALREADY_PINNED'> {
  constructor(message: string) {
    super('RUN_ALREADY_PINNED', message, { httpStatus: 409 });
  }
}

/** Port: the run registry (Postgres). */
export interface RunRegistry {
  /** Inserts the run; false if the id already exists. */
  createRun(record: RunPinRecord): Promise<boolean>;
  setActiveRun(id: PlatformRunId): Promise<void>;
  activeRun(): Promise<PlatformRunId | undefined>;
}

/** Port: the object store's view of runs (S3). */
export interface RunObjectStore {
  /** Write-once; false if the object already exists. */
  writePinRecord(record: RunPinRecord): Promise<{ created: boolean; ref: string }>;
  /** The ACTIVE_RUN_ID pointer object; returns its ref. */
  writeActiveRunPointer(id: PlatformRunId): Promise<string>;
  readActiveRunPointer(): Promise<string | undefined>;
}

export interface RunPinResult {
  platform_run_id: PlatformRunId;
  /** Exit gate: both Postgres and S3 name this run as active. */
  active: boolean;
  evidence: { run_pin_ref: string; active_run_ref: string; postgres_active_run: string | undefined };
}

export interface PinRunInput {
  requested?: string | undefined;
  pinnedBy: string;
  now: Date;
  stream?: RunStreamSettings | undefined;
}

/** At most this many later seconds are tried when a generated id is taken (two pins in one second). */
const MAX_ID_ATTEMPTS = 5;

export async function pinRun(
  input: PinRunInput,
  registry: RunRegistry,
  store: RunObjectStore,
): Promise<RunPinResult> {
  const candidates = input.requested === undefined ? generatedIds(input.now) : [requestedId(input.requested)];
  for (const id of candidates) {
    const record: RunPinRecord = {
      platform_run_id: id,
      pinned_at_utc: input.now.toISOString(),
      pinned_by: input.pinnedBy,
      ...(input.stream ? { stream: input.stream } : {}),
    };
    if (!(await registry.createRun(record))) continue;
    const pin = await store.writePinRecord(record);
    // A pin record already in S3 (e.g. Postgres was reset, S3 kept) belongs to another pinning: the id is taken.
    if (!pin.created) continue;
    await registry.setActiveRun(id);
    const activeRef = await store.writeActiveRunPointer(id);
    const [pgActive, s3Active] = await Promise.all([registry.activeRun(), store.readActiveRunPointer()]);
    return {
      platform_run_id: id,
      active: pgActive === id && s3Active === id,
      evidence: { run_pin_ref: pin.ref, active_run_ref: activeRef, postgres_active_run: pgActive },
    };
  }
  throw new RunAlreadyPinned(
    input.requested === undefined
      ? `no free platform_run_id within ${MAX_ID_ATTEMPTS} s of ${input.now.toISOString()}`
      : `platform_run_id ${input.requested} is already pinned; pin a fresh run instead of reusing one`,
  );
}

function requestedId(requested: string): PlatformRunId {
  const parsed = PlatformRunId.safeParse(requested);
  if (!parsed.success) {
    throw new InvalidPlatformRunId(
      `${JSON.stringify(requested)}: ${parsed.error.issues[0]?.message ?? 'malformed'}`,
    );
  }
  return parsed.data;
}

function generatedIds(now: Date): PlatformRunId[] {
  return Array.from({ length: MAX_ID_ATTEMPTS }, (_, i) =>
    platformRunIdAt(new Date(now.getTime() + i * 1000)),
  );
}

/** The P1 task: the requested id (or a fresh one), pinned by the requester (default `run-lifecycle`) now. */
export function pinRequestedRun(
  request: RunPinRequest,
  registry: RunRegistry,
  store: RunObjectStore,
  now: Date,
): Promise<RunPinResult> {
  return pinRun(
    {
      requested: request.platform_run_id,
      pinnedBy: request.pinned_by ?? 'run-lifecycle',
      now,
      stream: request.stream,
    },
    registry,
    store,
  );
}
