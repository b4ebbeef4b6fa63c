import type { HealthReport } from './ports.ts';

/**
 * §5.7 health from real signals: the database answers, every stream the gate routes to is describable, the
 * bus and the object store are not failing repeatedly, and the outbox is not stuck. RED reasons stop intake;
 * the result is cached for the probe interval (stale while a refresh runs, only the first check waits).
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
    if (publishFailures >= options.busFailureThreshold && !red.includes('BUS_UNHEALTHY'))
      red.push('BUS_UNHEALTHY');
    if (!red.includes('OPS_DB_UNHEALTHY')) {
      try {
        if ((await probes.stuckOutboxRows(options.busFailureThreshold)) > 0 && !red.includes('BUS_UNHEALTHY'))
          red.push('BUS_UNHEALTHY');
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
      publishFailures = ok ? 0 : publishFailures + 1;
      // A bus going bad must be seen at once, not after the cache expires.
      if (!ok && publishFailures >= options.busFailureThreshold && cached) cached = undefined;
    },
    recordStoreWrite(ok) {
      storeFailures = ok ? 0 : storeFailures + 1;
      if (!ok && cached) cached = undefined;
    },
  };
}
