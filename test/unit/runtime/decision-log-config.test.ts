import { describe, expect, it } from 'vitest';
import { DEFAULT_DECISION_LOG_HEALTH_THRESHOLDS } from '../../../lib/decision-log/observability.ts';
import { ConfigError } from '../../../lib/runtime/config.ts';
import {
  decisionLogEnvironment,
  decisionLogHealthThresholds,
} from '../../../lib/runtime/decision-log-config.ts';
import { projectorConfig } from '../../../lib/runtime/rtdl-config.ts';

/**
 * The decision log's environment (lib/runtime/decision-log-config.ts), parsed once at cold start: IG's URL and the
 * log's own API key (plain or an SSM parameter); its health thresholds, §3.4's with the parity pack's checkpoint ages.
 */

const IG_URL = 'http://127.0.0.1:4010';

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but the configuration parsed');
}

describe('decisionLogEnvironment', () => {
  it('IG’s URL and the key, or the key’s SSM parameter (blank values unset, values trimmed)', () => {
    expect(decisionLogEnvironment({ IG_URL, DECISION_LOG_IG_API_KEY: ' dla-key ' })).toEqual({
      igUrl: IG_URL,
      igApiKey: 'dla-key',
      igApiKeySsmParameter: undefined,
    });
    expect(
      decisionLogEnvironment({
        IG_URL,
        DECISION_LOG_IG_API_KEY: '',
        DECISION_LOG_IG_API_KEY_SSM_PARAMETER: '/fraud-platform/dev/dla-ig-api-key',
      }),
    ).toEqual({
      igUrl: IG_URL,
      igApiKey: undefined,
      igApiKeySsmParameter: '/fraud-platform/dev/dla-ig-api-key',
    });
  });

  it('neither the key nor its SSM parameter: CONFIG_INVALID naming both', () => {
    for (const source of [
      { IG_URL },
      { IG_URL, DECISION_LOG_IG_API_KEY: ' ', DECISION_LOG_IG_API_KEY_SSM_PARAMETER: '' },
      // Another component's key is not this one's.
      { IG_URL, ACTION_LAYER_IG_API_KEY: 'al-key' },
    ]) {
      const error = configErrorOf(() => decisionLogEnvironment(source));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toMatch(/decision log environment/);
      expect(error.message).toMatch(
        /DECISION_LOG_IG_API_KEY: set DECISION_LOG_IG_API_KEY or DECISION_LOG_IG_API_KEY_SSM_PARAMETER/,
      );
    }
  });

  it('IG’s URL missing or not a URL: CONFIG_INVALID naming IG_URL', () => {
    for (const url of [undefined, ' ', 'not a url'])
      expect(
        configErrorOf(() => decisionLogEnvironment({ IG_URL: url, DECISION_LOG_IG_API_KEY: 'k' })).message,
        url,
      ).toMatch(/IG_URL: /);
  });
});

describe('decisionLogHealthThresholds', () => {
  it('§3.4’s thresholds with the checkpoint ages of the projector config', () => {
    const config = projectorConfig('decision-log', {
      RTDL_CHECKPOINT_AMBER_SECONDS: '600',
      RTDL_CHECKPOINT_RED_SECONDS: '1800',
    });
    expect(decisionLogHealthThresholds(config)).toEqual({
      ...DEFAULT_DECISION_LOG_HEALTH_THRESHOLDS,
      amberCheckpointAgeSeconds: 600,
      redCheckpointAgeSeconds: 1800,
    });
    expect(decisionLogHealthThresholds(projectorConfig('decision-log', {}))).toMatchObject({
      amberCheckpointAgeSeconds: 86_400,
      redCheckpointAgeSeconds: 172_800,
    });
  });
});
