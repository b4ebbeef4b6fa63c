import { describe, expect, it } from 'vitest';
import { actionLayerEnvironment } from '../../../lib/runtime/action-layer-config.ts';
import { ConfigError } from '../../../lib/runtime/config.ts';

/**
 * The action layer's environment (lib/runtime/action-layer-config.ts), parsed once at cold start: IG's URL, the layer's
 * own API key (plain or an SSM parameter), IG's timeout, and the simulated executor's faults as JSON.
 */

const BASE = { IG_URL: 'http://127.0.0.1:4010', ACTION_LAYER_IG_API_KEY: 'al-key' };

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but the configuration parsed');
}
const faultsError = (value: string) =>
  configErrorOf(() => actionLayerEnvironment({ ...BASE, ACTION_LAYER_SIMULATED_FAULTS: value }));

describe('actionLayerEnvironment', () => {
  it('IG’s URL and the key; a 10 s timeout and no faults by default', () => {
    expect(actionLayerEnvironment(BASE)).toEqual({
      igUrl: 'http://127.0.0.1:4010',
      igApiKey: 'al-key',
      igApiKeySsmParameter: undefined,
      igTimeoutMs: 10_000,
      simulatedFaults: {},
    });
  });

  it('the key from an SSM parameter instead; blank values are unset, values trimmed', () => {
    expect(
      actionLayerEnvironment({
        IG_URL: ' http://ig.internal/ ',
        ACTION_LAYER_IG_API_KEY: '  ',
        ACTION_LAYER_IG_API_KEY_SSM_PARAMETER: '/fraud-platform/dev/al-ig-api-key',
        ACTION_LAYER_IG_TIMEOUT_MS: '2500',
        ACTION_LAYER_SIMULATED_FAULTS: '',
      }),
    ).toEqual({
      igUrl: 'http://ig.internal/',
      igApiKey: undefined,
      igApiKeySsmParameter: '/fraud-platform/dev/al-ig-api-key',
      igTimeoutMs: 2500,
      simulatedFaults: {},
    });
  });

  it('neither the key nor its SSM parameter: CONFIG_INVALID naming both', () => {
    for (const source of [
      { IG_URL: BASE.IG_URL },
      { IG_URL: BASE.IG_URL, ACTION_LAYER_IG_API_KEY: '', ACTION_LAYER_IG_API_KEY_SSM_PARAMETER: ' ' },
    ]) {
      const error = configErrorOf(() => actionLayerEnvironment(source));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toMatch(/action layer environment/);
      expect(error.message).toMatch(
        /ACTION_LAYER_IG_API_KEY: set ACTION_LAYER_IG_API_KEY or ACTION_LAYER_IG_API_KEY_SSM_PARAMETER/,
      );
    }
  });

  it('IG’s URL missing or not a URL: CONFIG_INVALID naming IG_URL', () => {
    for (const url of [undefined, '', 'not a url'])
      expect(configErrorOf(() => actionLayerEnvironment({ ...BASE, IG_URL: url })).message, url).toMatch(
        /IG_URL: /,
      );
  });

  it('the timeout is whole milliseconds in 100..120000', () => {
    expect(actionLayerEnvironment({ ...BASE, ACTION_LAYER_IG_TIMEOUT_MS: '100' }).igTimeoutMs).toBe(100);
    for (const bad of ['99', '120001', '1.5', 'soon'])
      expect(
        configErrorOf(() => actionLayerEnvironment({ ...BASE, ACTION_LAYER_IG_TIMEOUT_MS: bad })).message,
        bad,
      ).toMatch(/ACTION_LAYER_IG_TIMEOUT_MS/);
  });

  it('ACTION_LAYER_SIMULATED_FAULTS: JSON of the faults per action kind, parsed', () => {
    const faults = {
      STEP_UP: ['RETRYABLE_ERROR', 'UNKNOWN_COMMIT'],
      QUEUE_REVIEW: ['PERMANENT_ERROR'],
      ALLOW: [],
    };
    expect(
      actionLayerEnvironment({ ...BASE, ACTION_LAYER_SIMULATED_FAULTS: ` ${JSON.stringify(faults)} ` })
        .simulatedFaults,
    ).toEqual(faults);
  });

  it('a COMMITTED fault is refused: faults are errors, a commit is what happens without one', () => {
    const error = faultsError('{"STEP_UP":["RETRYABLE_ERROR","COMMITTED"]}');
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/ACTION_LAYER_SIMULATED_FAULTS\.STEP_UP\.1: /);
  });

  it('not JSON is refused, and so is JSON of another shape', () => {
    expect(faultsError('{STEP_UP: [RETRYABLE_ERROR]}').message).toMatch(
      /ACTION_LAYER_SIMULATED_FAULTS: not JSON/,
    );
    for (const bad of [
      '["RETRYABLE_ERROR"]',
      'null',
      '{"STEP_UP":"RETRYABLE_ERROR"}',
      '{"STEP_UP":["TIMEOUT"]}',
      '{"step up":["RETRYABLE_ERROR"]}',
      `{"${'K'.repeat(65)}":[]}`,
      `{"STEP_UP":${JSON.stringify(Array(17).fill('RETRYABLE_ERROR'))}}`,
    ])
      expect(faultsError(bad).message, bad).toMatch(/ACTION_LAYER_SIMULATED_FAULTS/);
  });
});
