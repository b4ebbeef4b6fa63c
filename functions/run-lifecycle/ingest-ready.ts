import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { ssmClient } from '../../lib/adapters/aws-clients.ts';
import { s3PhaseEvidenceStore } from '../../lib/adapters/phase-evidence-store.ts';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { ingestReady } from '../../lib/run-lifecycle/ingest-ready.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { createLogger } from '../../lib/runtime/logger.ts';

const env = platformEnvironment();
const deps = platformDependencies(env);
const logger = createLogger('ingest-ready');
const igUrl = (process.env.IG_URL ?? '').replace(/\/+$/, '');
let key: Promise<string> | undefined;
const producerKey = () => {
  key ??= (async () => {
    const parameter = process.env.WSP_IG_API_KEY_SSM_PARAMETER;
    if (!parameter) return process.env.WSP_IG_API_KEY ?? '';
    const out = await ssmClient(deps.endpoints).send(
      new GetParameterCommand({ Name: parameter, WithDecryption: true }),
    );
    return out.Parameter?.Value ?? '';
  })();
  return key;
};

/** P4 INGEST_READY gate: IG's health answers 401 without a key and 200 with the producer's key, not RED. */
export const handler = async (event: unknown) => {
  if (!igUrl) throw new Error('CONFIG_INVALID: IG_URL is not set');
  const result = await ingestReady(event, {
    async get(path, withKey) {
      const res = await fetch(`${igUrl}${path}`, {
        headers: withKey ? { 'x-ig-api-key': await producerKey() } : {},
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* not JSON: kept as text */
      }
      return { status: res.status, body };
    },
    evidence: s3PhaseEvidenceStore(deps.s3, env.PLATFORM_BUCKET),
  });
  logger.info('ingest ready gate', { ready: result.ready, summary: result.summary });
  return result;
};
