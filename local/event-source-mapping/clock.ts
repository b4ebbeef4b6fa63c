/**
 * The poller's time, a port: record ages (maximumRecordAgeInSeconds), batching windows and retry backoffs are read
 * from it. Unit tests drive a clock of their own; the running poller uses the machine's, optionally set ahead.
 */
export interface Clock {
  now(): number;
  /** Resolves after `ms` of this clock, or as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The machine's clock, `aheadMs` ahead of it (LOCAL_ESM_CLOCK_OFFSET_SECONDS): a record put a moment ago is that
 * much older to the poller, so a test reaches maximumRecordAgeInSeconds without waiting for it.
 */
export function systemClock(aheadMs = 0): Clock {
  return {
    now: () => Date.now() + aheadMs,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) {
          resolve();
          return;
        }
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, ms));
        signal?.addEventListener('abort', done, { once: true });
      }),
  };
}
