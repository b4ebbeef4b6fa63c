import { createHash } from 'node:crypto';
import { ScenarioRunnerSettings } from '../../../lib/scenario-runner/settings.ts';
import { buildWorld, MF, PH, SCENARIO, SEED } from '../oracle-store/world-builder.ts';
import { type FakePorts, fakePorts } from './fakes.ts';

/** A parity-like setup for submit tests: one world at ENGINE_ROOT, parity policy, an AUTO request. */

export const sha = (text: string) => createHash('sha256').update(text).digest('hex');
export const PRID = 'platform_20260101T000000Z';
export const ENGINE_ROOT = 's3://oracle-store/local_full_run-5/c25a2675fbfbacd952b13bb594880e92';
export const PARITY_KEY = 'parity_20260101T000000Z';
/** §9.1 golden. */
export const PARITY_RUN_ID = 'e4f2285913cc771d0d8dd1ad475f7a01';

export function settings(
  overrides: { policy?: Record<string, unknown>; wiring?: Record<string, unknown> } = {},
): ScenarioRunnerSettings {
  return ScenarioRunnerSettings.parse({
    policy: {
      policy_id: 'sr_policy',
      revision: 'v0-local',
      content_digest: 'c7f6da0172c57228940231844b9a6c4457aa809fc7929ff72ca5512197d0c412',
      reuse_policy: 'ALLOW',
      evidence_wait_seconds: 600,
      attempt_limit: 1,
      ...overrides.policy,
    },
    wiring: { platform_run_id: PRID, environment: 'local_parity', ...overrides.wiring },
  });
}

export function request(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    run_equivalence_key: PARITY_KEY,
    manifest_fingerprint: MF,
    parameter_hash: PH,
    seed: SEED,
    scenario: { scenario_id: SCENARIO },
    window: { window_start_utc: '2026-01-01T00:00:00Z', window_end_utc: '2026-01-02T00:00:00Z' },
    engine_run_root: ENGINE_ROOT,
    ...overrides,
  };
}

/** Ports with a complete world at ENGINE_ROOT. */
export async function parityPorts(): Promise<FakePorts> {
  const ports = fakePorts();
  await buildWorld(ports.world.add(ENGINE_ROOT));
  return ports;
}

export const srKey = (kind: string, ext = 'json') => `${PRID}/sr/${kind}/${PARITY_RUN_ID}.${ext}`;

/** The run record's event kinds, in order. */
export function recordKinds(ports: FakePorts): string[] {
  const text = ports.artifacts.text(srKey('run_record', 'jsonl')) ?? '';
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { event_kind: string }).event_kind);
}

export function status(ports: FakePorts): { state: string; reason_code?: string } | undefined {
  return ports.artifacts.json(srKey('run_status')) as { state: string; reason_code?: string } | undefined;
}
