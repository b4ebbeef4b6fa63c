import { ConfigInvalid } from '../errors/platform-error.ts';
import type { IngestPorts } from '../run-lifecycle/ingest-ready.ts';

/**
 * GET of an Ingestion Gate path, with or without the producer's key (`x-ig-api-key`), for the P4 gate; a body that
 * is not JSON is kept as text. Without a URL every call fails with CONFIG_INVALID (P4 records why).
 */
export function httpIngestionGateProbe(options: {
  url: string | undefined;
  apiKey: () => Promise<string>;
  timeoutMs?: number;
}): IngestPorts['get'] {
  return async (path, withKey) => {
    if (!options.url) throw new ConfigInvalid('CONFIG_INVALID: IG_URL is not set');
    const res = await fetch(`${options.url}${path}`, {
      headers: withKey ? { 'x-ig-api-key': await options.apiKey() } : {},
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON: kept as text */
    }
    return { status: res.status, body };
  };
}
