import type { PlatformEnvironment } from '../runtime/config.ts';
import { type ScenarioRunnerEnvironment, scenarioRunnerSettings } from '../runtime/scenario-runner-config.ts';
import type { RunsApiDependencies } from '../scenario-runner/http-api.ts';
import type { ScenarioRunnerPorts } from '../scenario-runner/ports.ts';
import { submitSubmission } from '../scenario-runner/submission.ts';
import { apiKeysLoader } from './api-keys.ts';
import type { PlatformDependencies } from './platform-dependencies.ts';
import {
  kinesisControlBus,
  oracleWorldReader,
  postgresRunAuthority,
  s3RunArtifactStore,
  systemClock,
} from './scenario-runner-stores.ts';

/** The Scenario Runner wired to Postgres, S3 and Kinesis for one Lambda container. */
export function scenarioRunner(
  env: PlatformEnvironment,
  sr: ScenarioRunnerEnvironment,
  deps: PlatformDependencies,
) {
  // A bare SR key (no `principal=`) is the run submitter's.
  const apiKeys = apiKeysLoader(
    deps.endpoints,
    sr.SR_API_KEYS,
    sr.SR_API_KEYS_SSM_PARAMETER || undefined,
    'scenario_submitter',
  );

  const artifacts = s3RunArtifactStore(deps.s3, env.PLATFORM_BUCKET);
  // Worlds on the local disk exist only on the local cloud (docs/oracle-store.md).
  const world = oracleWorldReader(deps.s3, { allowFileRoots: env.STAGE === 'local' });
  const bus = kinesisControlBus(deps.kinesis, sr.SR_CONTROL_BUS_STREAM);
  const ports = async (): Promise<ScenarioRunnerPorts> => ({
    authority: postgresRunAuthority(await deps.pool()),
    artifacts,
    world,
    bus,
    clock: systemClock,
  });
  const settingsFor = (platformRunId: string) => scenarioRunnerSettings(sr, platformRunId);
  const submit = async (input: unknown) => submitSubmission(input, await ports(), settingsFor);

  const api: RunsApiDependencies = { apiKeys, maxRequestBytes: sr.SR_MAX_REQUEST_BYTES, submit };
  return { api, submit, ports, settingsFor };
}
