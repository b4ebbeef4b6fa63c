import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/runtime/config.ts';
import {
  caughtUpTimeoutSeconds,
  contextHealthThresholds,
  graphHealthThresholds,
  projectorConfig,
  RTDL_COMPONENTS,
} from '../../../lib/runtime/rtdl-config.ts';

/** The RTDL projectors' settings (lib/runtime/rtdl-config.ts), parsed once at cold start from the environment. */

const RUN = 'platform_20260308T000000Z';

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but the configuration parsed');
}

describe('projectorConfig', () => {
  it('an empty environment: the active run, dev-local / unknown provenance, the parity pack thresholds', () => {
    expect(projectorConfig('identity-graph', {})).toEqual({
      component: 'identity-graph',
      requiredPlatformRunId: undefined,
      provenance: { service_release_id: 'dev-local', environment: 'unknown' },
      watermarkAgeSeconds: { amber: 500_000_000, red: 800_000_000 },
      checkpointAgeSeconds: { amber: 86_400, red: 172_800 },
    });
  });

  it('each component reads its own REQUIRED_PLATFORM_RUN_ID key, not another’s', () => {
    const source = {
      IDENTITY_GRAPH_REQUIRED_PLATFORM_RUN_ID: RUN,
      CONTEXT_STORE_REQUIRED_PLATFORM_RUN_ID: 'platform_20260309T000000Z',
    };
    expect(projectorConfig('identity-graph', source).requiredPlatformRunId).toBe(RUN);
    expect(projectorConfig('context-store', source).requiredPlatformRunId).toBe('platform_20260309T000000Z');
    expect(projectorConfig('archive-writer', source).requiredPlatformRunId).toBeUndefined();
    expect(projectorConfig('online-features', source).requiredPlatformRunId).toBeUndefined();
    expect(
      projectorConfig('online-features', { ONLINE_FEATURES_REQUIRED_PLATFORM_RUN_ID: RUN })
        .requiredPlatformRunId,
    ).toBe(RUN);
    expect(
      projectorConfig('archive-writer', { ARCHIVE_WRITER_REQUIRED_PLATFORM_RUN_ID: RUN })
        .requiredPlatformRunId,
    ).toBe(RUN);
  });

  it('an empty or blank run id means the active run; surrounding spaces are trimmed', () => {
    for (const value of ['', '   '])
      expect(
        projectorConfig('context-store', { CONTEXT_STORE_REQUIRED_PLATFORM_RUN_ID: value })
          .requiredPlatformRunId,
      ).toBeUndefined();
    expect(
      projectorConfig('context-store', { CONTEXT_STORE_REQUIRED_PLATFORM_RUN_ID: ` ${RUN} ` })
        .requiredPlatformRunId,
    ).toBe(RUN);
  });

  it('a run id that is not one fails with a ConfigError naming the key and the component', () => {
    const error = configErrorOf(() =>
      projectorConfig('identity-graph', { IDENTITY_GRAPH_REQUIRED_PLATFORM_RUN_ID: 'yesterday' }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/identity-graph environment/);
    expect(error.message).toMatch(
      /IDENTITY_GRAPH_REQUIRED_PLATFORM_RUN_ID: expected platform_YYYYMMDDTHHMMSSZ/,
    );
  });

  it('provenance: the component’s release id, else the platform’s, else dev-local; the environment, else unknown', () => {
    const both = {
      ARCHIVE_WRITER_SERVICE_RELEASE_ID: 'aw-1.2.3',
      SERVICE_RELEASE_ID: 'platform-9',
      PLATFORM_ENVIRONMENT: 'local_parity',
    };
    expect(projectorConfig('archive-writer', both).provenance).toEqual({
      service_release_id: 'aw-1.2.3',
      environment: 'local_parity',
    });
    expect(projectorConfig('context-store', both).provenance).toEqual({
      service_release_id: 'platform-9',
      environment: 'local_parity',
    });
    expect(
      projectorConfig('context-store', { CONTEXT_STORE_SERVICE_RELEASE_ID: ' ', SERVICE_RELEASE_ID: '' })
        .provenance,
    ).toEqual({ service_release_id: 'dev-local', environment: 'unknown' });
  });

  it('a provenance value past its length fails naming the key', () => {
    expect(
      configErrorOf(() => projectorConfig('online-features', { PLATFORM_ENVIRONMENT: 'e'.repeat(65) }))
        .message,
    ).toMatch(/PLATFORM_ENVIRONMENT/);
    expect(
      configErrorOf(() => projectorConfig('online-features', { SERVICE_RELEASE_ID: 'r'.repeat(257) }))
        .message,
    ).toMatch(/SERVICE_RELEASE_ID/);
  });

  it('the age thresholds come from the environment as whole seconds ≥ 1', () => {
    const config = projectorConfig('identity-graph', {
      RTDL_WATERMARK_AMBER_SECONDS: '120',
      RTDL_WATERMARK_RED_SECONDS: ' 300 ',
      RTDL_CHECKPOINT_AMBER_SECONDS: '60',
      RTDL_CHECKPOINT_RED_SECONDS: '',
    });
    expect(config.watermarkAgeSeconds).toEqual({ amber: 120, red: 300 });
    expect(config.checkpointAgeSeconds).toEqual({ amber: 60, red: 172_800 });
    for (const bad of ['0', '-5', '1.5', 'soon'])
      expect(
        configErrorOf(() => projectorConfig('identity-graph', { RTDL_CHECKPOINT_AMBER_SECONDS: bad }))
          .message,
        bad,
      ).toMatch(/RTDL_CHECKPOINT_AMBER_SECONDS/);
  });

  it('names the four projectors and the decision lane consumers (run scope and provenance like a projector)', () => {
    expect(RTDL_COMPONENTS).toEqual([
      'archive-writer',
      'identity-graph',
      'context-store',
      'online-features',
      'decision-fabric',
      'action-layer',
      'decision-log',
    ]);
  });
});

describe('health thresholds of a projector config', () => {
  const config = projectorConfig('identity-graph', {
    RTDL_WATERMARK_AMBER_SECONDS: '10',
    RTDL_WATERMARK_RED_SECONDS: '20',
    RTDL_CHECKPOINT_AMBER_SECONDS: '30',
    RTDL_CHECKPOINT_RED_SECONDS: '40',
  });

  it('the identity graph: the configured ages, apply failures 1 AMBER / 100 RED', () => {
    expect(graphHealthThresholds(config)).toEqual({
      amberWatermarkAgeSeconds: 10,
      redWatermarkAgeSeconds: 20,
      amberCheckpointAgeSeconds: 30,
      redCheckpointAgeSeconds: 40,
      amberApplyFailures: 1,
      redApplyFailures: 100,
    });
  });

  it('the context store: the configured ages and §2.4’s counts', () => {
    expect(contextHealthThresholds(config)).toEqual({
      amberWatermarkAgeSeconds: 10,
      redWatermarkAgeSeconds: 20,
      amberCheckpointAgeSeconds: 30,
      redCheckpointAgeSeconds: 40,
      amberJoinMisses: 1,
      redJoinMisses: 10,
      amberBindingConflicts: 1,
      redBindingConflicts: 5,
      amberApplyFailures: 1,
      redApplyFailures: 10,
    });
  });
});

describe('caughtUpTimeoutSeconds', () => {
  it('is 900 s by default, else RTDL_CAUGHT_UP_TIMEOUT_SECONDS', () => {
    expect(caughtUpTimeoutSeconds({})).toBe(900);
    expect(caughtUpTimeoutSeconds({ RTDL_CAUGHT_UP_TIMEOUT_SECONDS: '' })).toBe(900);
    expect(caughtUpTimeoutSeconds({ RTDL_CAUGHT_UP_TIMEOUT_SECONDS: '60' })).toBe(60);
  });

  it('a value that is not a whole number of seconds ≥ 1 fails naming the key', () => {
    for (const bad of ['0', 'ten', '2.5']) {
      const error = configErrorOf(() => caughtUpTimeoutSeconds({ RTDL_CAUGHT_UP_TIMEOUT_SECONDS: bad }));
      expect(error.message, bad).toMatch(/run-lifecycle environment.*RTDL_CAUGHT_UP_TIMEOUT_SECONDS/);
    }
  });
});
