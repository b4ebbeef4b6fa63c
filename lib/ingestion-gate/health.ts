import type { HealthReport } from './ports.ts';

/**
 * §5.7 health from real signals: the database answers, every stream the gate routes to is describable, the
 * bus and the object store are not failing repeatedly. RED reasons stop intake; the result is cached for the
 * probe interval (stale while a refresh runs, only the first check waits). Repeated publish failures make the
 * gate RED until a publish succeeds or one probe interval has passed since the last failure (intake being
 * refused, no publish could ever clear it otherwise; if the bus is still failing the count climbs again). An
 * outbox holding events that failed to publish repeatedly is AMBER `OUTBOX_BACKLOG`: it drains on the next
 * pushes and on the schedule, so it must not stop intake.
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
  now?: () => number;
}

export interface HealthMonitor {
  report(): Promise<HealthReport>;
  recordPublish(ok: boolean): void;
  recordStoreWrite(ok: boolean): void;
}

export function healthMonitor(probes: HealthProbes, options: HealthOptions): HealthMonitor {
  const now = options.now ?? Date.now;
  let publishFailures = 0;
  let lastFailureAt = 0;
  let storeFailures = 0;
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
    if (storeFailures >= 1) red.push('OBJECT_STORE_UNHEALTHY');
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
      if (now() - cached.at >= options.intervalMs) void refresh().catch(() => undefined);
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
      storeFailures = ok ? 0 : storeFailures + 1;
      if (!ok && cached) cached = undefined;
    },
  };
}
