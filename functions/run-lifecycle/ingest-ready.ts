import { httpIngestionGateProbe } from '../../lib/adapters/ingestion-gate-probe.ts';
import { configuredSecret, ssmSecrets } from '../../lib/adapters/parameters.ts';
import { s3PhaseEvidenceStore } from '../../lib/adapters/phase-evidence-store.ts';
import { objectStoreDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { IngestReadyRequest, ingestReady } from '../../lib/run-lifecycle/ingest-ready.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { ingestReadyEnvironment } from '../../lib/runtime/run-lifecycle-config.ts';

const env = platformEnvironment();
const gate = ingestReadyEnvironment();
const deps = objectStoreDependencies(env);
const ports = {
  get: httpIngestionGateProbe({
    url: gate.IG_URL,
    apiKey: configuredSecret(ssmSecrets(deps.endpoints), {
      plain: gate.WSP_IG_API_KEY,
      parameter: gate.WSP_IG_API_KEY_SSM_PARAMETER,
      what: 'WSP_IG_API_KEY_SSM_PARAMETER',
    }),
  }),
  evidence: s3PhaseEvidenceStore(deps.s3, env.PLATFORM_BUCKET),
};

/** P4 INGEST_READY gate: IG's health answers 401 without a key and 200 with the producer's key, not RED. */
export const handler = taskHandler(
  IngestReadyRequest,
  async (request, { logger }) => {
    const result = await ingestReady(request, ports);
    logger.info('ingest ready gate', { ready: result.ready, summary: result.summary });
    return result;
  },
  { service: 'ingest-ready', invalid: 'RUN_PHASE_REQUEST_INVALID' },
);
