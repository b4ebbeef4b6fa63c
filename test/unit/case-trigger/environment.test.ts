import { describe, expect, it } from 'vitest';
import { caseTriggerEnvironment } from '../../../lib/runtime/case-trigger-config.ts';
import { ConfigError } from '../../../lib/runtime/config.ts';

/**
 * The case trigger's environment (lib/runtime/case-trigger-config.ts), parsed once at cold start: IG's URL, the
 * trigger's own API key (plain or an SSM parameter), IG's timeout, the escalation switch and the run-scope gate.
 */

const BASE = { IG_URL: 'http://127.0.0.1:4010', CASE_TRIGGER_IG_API_KEY: 'ct-key' };

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but the configuration parsed');
}

describe('caseTriggerEnvironment', () => {
  it('IG’s URL and the key; non-ALLOW escalation, a 10 s timeout and the active run by default', () => {
    expect(caseTriggerEnvironment(BASE)).toEqual({
      igUrl: 'http://127.0.0.1:4010',
      igApiKey: 'ct-key',
      igApiKeySsmParameter: undefined,
      igTimeoutMs: 10_000,
      escalate: 'non_allow',
      requiredPlatformRunId: undefined,
    });
  });

  it('the key from SSM, every decision escalated, a required run; blank values are unset, values trimmed', () => {
    expect(
      caseTriggerEnvironment({
        IG_URL: ' http://ig.internal/ ',
        CASE_TRIGGER_IG_API_KEY: ' ',
        CASE_TRIGGER_IG_API_KEY_SSM_PARAMETER: '/fraud-platform/dev/case-trigger-ig-api-key',
        CASE_TRIGGER_IG_TIMEOUT_MS: '2500',
        CASE_TRIGGER_ESCALATE: ' every_decision ',
        CASE_TRIGGER_REQUIRED_PLATFORM_RUN_ID: 'platform_20261207T100000Z',
      }),
    ).toEqual({
      igUrl: 'http://ig.internal/',
      igApiKey: undefined,
      igApiKeySsmParameter: '/fraud-platform/dev/case-trigger-ig-api-key',
      igTimeoutMs: 2500,
      escalate: 'every_decision',
      requiredPlatformRunId: 'platform_20261207T100000Z',
    });
    expect(caseTriggerEnvironment({ ...BASE, CASE_TRIGGER_ESCALATE: '' }).escalate).toBe('non_allow');
  });

  it('a bad value fails at cold start, naming its key', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ IG_URL: BASE.IG_URL }, /CASE_TRIGGER_IG_API_KEY: set CASE_TRIGGER_IG_API_KEY or/],
      [{ ...BASE, CASE_TRIGGER_ESCALATE: 'all' }, /CASE_TRIGGER_ESCALATE/],
      [{ ...BASE, CASE_TRIGGER_REQUIRED_PLATFORM_RUN_ID: 'run-1' }, /CASE_TRIGGER_REQUIRED_PLATFORM_RUN_ID/],
      [{ ...BASE, CASE_TRIGGER_IG_TIMEOUT_MS: '5' }, /CASE_TRIGGER_IG_TIMEOUT_MS/],
      [{ ...BASE, IG_URL: 'not a url' }, /IG_URL/],
    ];
    for (const [source, message] of cases) {
      const error = configErrorOf(() => caseTriggerEnvironment(source));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toMatch(/case trigger environment/);
      expect(error.message).toMatch(message);
    }
  });
});
