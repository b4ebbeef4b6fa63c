import { z } from 'zod';
import type { CanonicalEnvelope } from '../contracts/envelope.ts';
import type { IngestionGateClient, IngestResponse, RandomSource, Sleeper, StreamLog } from './ports.ts';
import type { StreamReasonCode } from './reason-codes.ts';
import type { RetrySettings } from './settings.ts';

/**
 * Push to IG with retry (control-ingress.md §4.7): success is any status < 400 (ADMIT, DUPLICATE, QUARANTINE);
 * timeouts, connection errors, 408, 429 and ≥ 500 are retried with the same envelope; any other 4xx stops the
 * stream with IG_PUSH_REJECTED.
 */

export type PushOutcome =
  | { ok: true; status: number; attempts: number }
  | {
      ok: false;
      reason: Extract<StreamReasonCode, 'IG_PUSH_REJECTED' | 'IG_PUSH_RETRY_EXHAUSTED'>;
      detail: string;
      attempts: number;
    };

/** §4.7 statuses worth another attempt. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** §4.7 backoff after attempt `n` (1-based): `min(max, base·2^(n−1))` plus uniform jitter in [0, that]. */
export function backoffDelayMs(attempt: number, retry: RetrySettings, random: RandomSource): number {
  const delay = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  return delay + (delay > 0 ? random() * delay : 0);
}

export interface PushDeps {
  ig: IngestionGateClient;
  sleeper: Sleeper;
  random: RandomSource;
  log?: StreamLog;
}

/** What one attempt ended with: an outcome to return, or an error worth another attempt. */
type Attempt = { outcome: PushOutcome } | { retryable: string };

const rejected = (detail: string, attempts: number): Attempt => ({
  outcome: { ok: false, reason: 'IG_PUSH_REJECTED', detail: detail.slice(0, 256), attempts },
});

/** An answer's status decides alone unless it is a batch 200: ok below 400, retried (408/429/5xx) or refused. */
function byStatus(response: IngestResponse, attempt: number): Attempt {
  if (response.status < 400) return { outcome: { ok: true, status: response.status, attempts: attempt } };
  if (!isRetryableStatus(response.status))
    return rejected(response.body ? response.body : `http_${response.status}`, attempt);
  return { retryable: `http_${response.status}` };
}

/** §4.7's loop: attempts with backoff (and a warning line) until one decides or they run out. */
async function withRetry(
  deps: PushDeps,
  retry: RetrySettings,
  describe: () => string,
  attemptOnce: (attempt: number) => Promise<Attempt>,
): Promise<PushOutcome> {
  let lastError = '';
  for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
    try {
      const result = await attemptOnce(attempt);
      if ('outcome' in result) return result.outcome;
      lastError = result.retryable;
    } catch (error) {
      lastError = (error instanceof Error ? error.message : String(error)).slice(0, 256) || 'transport_error';
    }
    if (attempt === retry.maxAttempts) break;
    const delay = backoffDelayMs(attempt, retry, deps.random);
    deps.log?.warn(
      `WSP IG push retry attempt=${attempt}/${retry.maxAttempts} delay_ms=${Math.round(delay)} reason=${lastError} ${describe()}`,
    );
    await deps.sleeper.sleep(delay);
  }
  return { ok: false, reason: 'IG_PUSH_RETRY_EXHAUSTED', detail: lastError, attempts: retry.maxAttempts };
}

/** Pushes one envelope until it is acknowledged, rejected, or the attempts run out. */
export function pushWithRetry(
  deps: PushDeps,
  envelope: CanonicalEnvelope,
  retry: RetrySettings,
): Promise<PushOutcome> {
  return withRetry(
    deps,
    retry,
    () => `event_id=${envelope.event_id}`,
    async (attempt) => byStatus(await deps.ig.push(envelope), attempt),
  );
}

/** The IG batch answer (`POST /v1/ingest/batch`): one result per envelope, by index. */
const BatchAnswer = z.object({
  results: z.array(
    z.union([
      z.object({ index: z.number().int().min(0), decision: z.string() }),
      z.object({
        index: z.number().int().min(0),
        error: z.string(),
        detail: z.string().optional(),
        retryable: z.boolean(),
      }),
    ]),
  ),
});

/**
 * Pushes envelopes as one IG batch until each is acknowledged (ADMIT, DUPLICATE or QUARANTINE), rejected, or
 * the attempts run out. The whole call is retried as a push is (timeouts, 408, 429, ≥ 500); after a 200 only the
 * items IG marked retryable are sent again, the same envelopes; an item IG refused, or an answer that is not a
 * batch answer, stops the stream with IG_PUSH_REJECTED.
 */
export function pushBatchWithRetry(
  deps: PushDeps,
  envelopes: readonly CanonicalEnvelope[],
  retry: RetrySettings,
): Promise<PushOutcome> {
  let remaining = [...envelopes];
  return withRetry(
    deps,
    retry,
    () => `events=${remaining.length}`,
    async (attempt) => {
      const response = await deps.ig.pushBatch(remaining);
      if (response.status !== 200) return byStatus(response, attempt);
      const answer = BatchAnswer.safeParse(safeJson(response.body));
      if (!answer.success) return rejected('IG answered 200 without a batch answer', attempt);
      if (answer.data.results.length !== remaining.length)
        return rejected('IG answered a batch of another size', attempt);
      const again: CanonicalEnvelope[] = [];
      let lastError = '';
      for (const r of answer.data.results) {
        if (!('error' in r)) continue;
        const envelope = remaining[r.index];
        if (!r.retryable || !envelope)
          return rejected(`${r.error}: ${r.detail ?? ''} event_id=${envelope?.event_id ?? r.index}`, attempt);
        again.push(envelope);
        lastError = r.error;
      }
      if (again.length === 0) return { outcome: { ok: true, status: 200, attempts: attempt } };
      remaining = again;
      return { retryable: lastError };
    },
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
