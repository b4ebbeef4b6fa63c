import { leaseToken } from '../contracts/identity.ts';
import { pythonIsoformat } from '../contracts/python-format.ts';
import type { Clock, RunAuthority } from './ports.ts';
import { ScenarioRunnerError } from './reason-codes.ts';
import type { CanonicalRun } from './run-request.ts';

/**
 * Run identity and leases (control-ingress.md §3.2). Unlike the reference, the lease is released when the
 * submission ends, whatever the outcome (spec README: "released at the end").
 */

/** Registers the equivalence key; the same key with another intent fingerprint is EQUIV_KEY_COLLISION. */
export async function registerRun(
  authority: RunAuthority,
  run: CanonicalRun,
  now: Date,
): Promise<{ first_seen: boolean }> {
  const { row, inserted } = await authority.registerEquivalence({
    run_equivalence_key: run.request.run_equivalence_key,
    run_id: run.run_id,
    intent_fingerprint: run.intent_fingerprint,
    seen_at: now,
  });
  if (row.intent_fingerprint !== run.intent_fingerprint || row.run_id !== run.run_id) {
    throw new ScenarioRunnerError(
      'EQUIV_KEY_COLLISION',
      `run_equivalence_key ${JSON.stringify(run.request.run_equivalence_key)} was first seen with intent ${row.intent_fingerprint}, not ${run.intent_fingerprint}`,
    );
  }
  return { first_seen: inserted };
}

/** A held lease: `ensure()` before every commit step, `release()` at the end. */
export class RunLease {
  private constructor(
    private readonly authority: RunAuthority,
    private readonly clock: Clock,
    readonly runId: string,
    readonly token: string,
    private readonly ttlMs: number,
  ) {}

  /** The lease, or undefined when another runner holds an unexpired one (LEASE_BUSY). */
  static async acquire(
    authority: RunAuthority,
    clock: Clock,
    runId: string,
    owner: string,
    ttlSeconds: number,
  ): Promise<RunLease | undefined> {
    const now = clock.now();
    const token = leaseToken(runId, owner, pythonIsoformat(now));
    const acquired = await authority.tryAcquireLease({
      run_id: runId,
      owner_id: owner,
      lease_token: token,
      expires_at: new Date(now.getTime() + ttlSeconds * 1000),
      updated_at: now,
    });
    return acquired ? new RunLease(authority, clock, runId, token, ttlSeconds * 1000) : undefined;
  }

  /** §3.2 `ensure_lease`: token still ours and unexpired, then renewed; else LEASE_LOST. */
  async ensure(): Promise<void> {
    const now = this.clock.now();
    const renewed = await this.authority.renewLease({
      run_id: this.runId,
      lease_token: this.token,
      now,
      expires_at: new Date(now.getTime() + this.ttlMs),
    });
    if (!renewed)
      throw new ScenarioRunnerError('LEASE_LOST', `lease on run ${this.runId} expired or was taken`);
  }

  /** Gives the lease back; a lease already lost is left to its new holder. */
  async release(): Promise<void> {
    await this.authority.releaseLease({ run_id: this.runId, lease_token: this.token });
  }
}
