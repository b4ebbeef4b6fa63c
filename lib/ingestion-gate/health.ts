import type { HealthReport } from './ports.ts';

/**
 * §5.7 health from real signals: the database answers, every stream the gate routes to is describable, the
 * bus and the object store are not failing repeatedly. RED reasons stop intake; the result is cached for the
 * probe interval (stale while a refresh runs, only the first check waits). Repeated publish failures make the
 * gate RED until a publish succeeds or one probe interval has passed since the last failure (intake being
 * refused, no publish could ever clear it otherwise; if the bus is still failing the count climbs again). An
 * outbox holding events that failed to publish repeatedly is AMBER `OUTBOX_BACKLOG`: it drains on the next
 * pushes and on the schedule, so it must not stop intake. Object-store failures count the same way as publish
 * failures, and a database call that could not reach Postgres re-probes at once. Only dependencies move health:
 * a request's content cannot (what it could break is validated before use). A RED report is kept for at most
 * `redRecheckMs` (default 2 s), so intake resumes by itself soon after the dependency is back.
 */

export interface HealthProbes {
  /** `SELECT 1`; throws when the database is unreachable. */
  database(): Promise<void>;
  /** Streams that cannot be described (DescribeStreamSummary), or throws when none can be asked. */
  undescribableStreams(): Promise<string[]>;
  /** Outbox rows that have failed to publish at least `threshold` times. */
  stuckOutboxRows(threshold: number): Promise<number>;
}

export interface HealthOptions {
  intervalMs: number;
  busFailureThreshold: number;
  /** How long a RED report is trusted before the next request probes again (default 2,000 ms). */
  redRecheckMs?: number;
  now?: () => number;
}

export interface HealthMonitor {
  report(): Promise<HealthReport>;
  recordPublish(ok: boolean): void;
  /** A write to the object store worked, or failed for the store's sake (5xx, unreachable), not the request's. */
  recordStoreWrite(ok: boolean): void;
  /** A database call could not reach Postgres: probe again now. */
  recordDatabaseUnavailable(): void;
}

export function healthMonitor(probes: HealthProbes, options: HealthOptions): HealthMonitor {
  const now = options.now ?? Date.now;
  let publishFailures = 0;
  let lastFailureAt = 0;
  let storeFailures = 0;
  let lastStoreFailureAt = 0;
  const redRecheckMs = Math.min(options.redRecheckMs ?? 2_000, options.intervalMs);
  let cached: { at: number; report: HealthReport } | undefined;
  let refreshing: Promise<HealthReport> | undefined;

  const probe = async (): Promise<HealthReport> => {
    const red: string[] = [];
    const amber: string[] = [];
    try {
      await probes.database();
    } catch {
      red.push('OPS_DB_UNHEALTHY');
    }
    try {
      const bad = await probes.undescribableStreams();
      if (bad.length > 0) red.push('BUS_UNHEALTHY');
    } catch {
      amber.push('BUS_HEALTH_UNKNOWN');
    }
    const failing =
      publishFailures >= options.busFailureThreshold && now() - lastFailureAt < options.intervalMs;
    if (failing && !red.includes('BUS_UNHEALTHY')) red.push('BUS_UNHEALTHY');
    if (!red.includes('OPS_DB_UNHEALTHY')) {
      try {
        if ((await probes.stuckOutboxRows(options.busFailureThreshold)) > 0) amber.push('OUTBOX_BACKLOG');
      } catch {
        /* the database probe already reports it */
      }
    }
    if (storeFailures >= options.busFailureThreshold && now() - lastStoreFailureAt < options.intervalMs)
      red.push('OBJECT_STORE_UNHEALTHY');
    const reasons = [...red, ...amber];
    return { state: red.length > 0 ? 'RED' : amber.length > 0 ? 'AMBER' : 'GREEN', reasons };
  };

  const refresh = () => {
    refreshing ??= probe()
      .then((report) => {
        cached = { at: now(), report };
        return report;
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };

  return {
    async report() {
      if (!cached) return refresh();
      const age = now() - cached.at;
      // RED refuses intake, so nothing but a probe can clear it: recheck soon, and wait for the answer.
      if (cached.report.state === 'RED' && age >= redRecheckMs) return refresh();
      if (age >= options.intervalMs) void refresh().catch(() => undefined);
      return cached.report;
    },
    recordPublish(ok) {
      const wasFailing = publishFailures >= options.busFailureThreshold;
      publishFailures = ok ? 0 : publishFailures + 1;
      if (!ok) lastFailureAt = now();
      // A bus going bad (or coming back) must be seen at once, not after the cache expires.
      if (wasFailing !== publishFailures >= options.busFailureThreshold) cached = undefined;
    },
    recordStoreWrite(ok) {
      const wasFailing = storeFailures >= options.busFailureThreshold;
      storeFailures = ok ? 0 : storeFailures + 1;
      if (!ok) lastStoreFailureAt = now();
      if (wasFailing !== storeFailures >= options.busFailureThreshold) cached = undefined;
    },
    recordDatabaseUnavailable() {
      if (cached?.report.reasons.includes('OPS_DB_UNHEALTHY')) return;
      cached = undefined;
    },
  };
}
