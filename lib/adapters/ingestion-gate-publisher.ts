import { z } from 'zod';
import { canonicalJson, parseJsonLossless } from '../contracts/canonical-json.ts';
import type { PublishDecision } from '../contracts/decision-lane.ts';
import type { CanonicalEnvelope } from '../contracts/envelope.ts';
import { PlatformError } from '../errors/platform-error.ts';

/**
 * Publishing to IG's batch route for the decision lane's producers (downstream.md §1 "Publishing": DF, AL, case
 * trigger): `POST {IG}/v1/ingest/batch` with the producer's `x-ig-api-key`, ≤ 500 envelopes. Up to `maxAttempts`
 * attempts with backoff `base·2^(n−1)` (capped) plus jitter; a timeout, a connection error, 408, 429, ≥ 500 and the
 * items IG marks retryable are tried again (only those items). Another 4xx or an item IG refuses is
 * `IG_PUSH_REJECTED`; running out of attempts is `IG_PUBLISH_AMBIGUOUS` — both throw, so the caller's batch is
 * retried whole (its ledger keeps that from deciding or executing twice, and IG answers DUPLICATE for what it has).
 */

export class PublishFailed extends PlatformError<'IG_PUSH_REJECTED' | 'IG_PUBLISH_AMBIGUOUS'> {
  // Retryable: a bus edge with `onPoison` would otherwise set every record of the batch aside, unpublished.
  constructor(code: 'IG_PUSH_REJECTED' | 'IG_PUBLISH_AMBIGUOUS', message: string) {
    super(code, message, { retryable: true });
  }
}

const BatchAnswer = z.object({
  results: z.array(
    z.union([
      z.object({ index: z.number().int().min(0), decision: z.enum(['ADMIT', 'DUPLICATE', 'QUARANTINE']) }),
      z.object({
        index: z.number().int().min(0),
        error: z.string(),
        detail: z.string().optional(),
        retryable: z.boolean(),
      }),
    ]),
  ),
});

export interface PublisherSettings {
  url: string;
  apiKey: () => Promise<string>;
  timeoutMs: number;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const retryableStatus = (status: number) => status === 408 || status === 429 || status >= 500;

export function ingestionGateBatchPublisher(settings: PublisherSettings) {
  const base = settings.url.replace(/\/+$/, '').replace(/\/v1\/ingest\/(push|batch)$/, '');
  const sleep = settings.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = settings.random ?? Math.random;
  return {
    async publish(envelopes: readonly CanonicalEnvelope[]): Promise<{ decision: PublishDecision }[]> {
      const results: ({ decision: PublishDecision } | undefined)[] = envelopes.map(() => undefined);
      let pending = envelopes.map((_, i) => i);
      let lastError = '';
      for (let attempt = 1; attempt <= settings.maxAttempts && pending.length > 0; attempt++) {
        if (attempt > 1) {
          const delay = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 2));
          await sleep(delay + random() * delay);
        }
        let status: number;
        let body: string;
        try {
          const res = await fetch(`${base}/v1/ingest/batch`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-ig-api-key': await settings.apiKey() },
            body: canonicalJson({ envelopes: pending.map((i) => envelopes[i]) }),
            signal: AbortSignal.timeout(settings.timeoutMs),
          });
          status = res.status;
          body = await res.text();
        } catch (error) {
          lastError = (error instanceof Error ? error.message : String(error)).slice(0, 256);
          continue;
        }
        if (status !== 200) {
          if (retryableStatus(status)) {
            lastError = `http_${status}`;
            continue;
          }
          throw new PublishFailed('IG_PUSH_REJECTED', `IG answered ${status}: ${body.slice(0, 256)}`);
        }
        let parsed: unknown;
        try {
          parsed = parseJsonLossless(body);
        } catch {
          parsed = undefined;
        }
        const answer = BatchAnswer.safeParse(parsed);
        if (!answer.success || answer.data.results.length !== pending.length)
          throw new PublishFailed(
            'IG_PUSH_REJECTED',
            'IG answered 200 without a batch answer of the right size',
          );
        const again: number[] = [];
        for (const r of answer.data.results) {
          const index = pending[r.index];
          if (index === undefined)
            throw new PublishFailed('IG_PUSH_REJECTED', `IG answered index ${r.index}`);
          if ('decision' in r) results[index] = { decision: r.decision };
          else if (r.retryable) {
            again.push(index);
            lastError = r.error;
          } else
            throw new PublishFailed(
              'IG_PUSH_REJECTED',
              `${r.error}: ${(r.detail ?? '').slice(0, 200)} event_id=${envelopes[index]?.event_id}`,
            );
        }
        pending = again;
      }
      if (pending.length > 0)
        throw new PublishFailed(
          'IG_PUBLISH_AMBIGUOUS',
          `${pending.length} envelopes unanswered after ${settings.maxAttempts} attempts: ${lastError}`,
        );
      return results.map((r) => r ?? { decision: 'QUARANTINE' });
    },
  };
}
