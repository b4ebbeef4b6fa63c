import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';

type Hook = () => void;
const OfflineIdentities = createRequire(import.meta.url)('../../../plugins/offline-identities.cjs') as new (
  serverless: unknown,
) => { hooks: Record<string, Hook> };

const saved = process.env.LOCAL_FUNCTION_IDENTITIES;
afterEach(() => {
  if (saved === undefined) delete process.env.LOCAL_FUNCTION_IDENTITIES;
  else process.env.LOCAL_FUNCTION_IDENTITIES = saved;
});

describe('plugins/offline-identities.cjs', () => {
  it('gives each function the access key id of its role before serverless-offline starts, and nothing else', () => {
    const functions: Record<string, { environment?: Record<string, string> }> = {
      gate: { environment: { KEEP: 'me' } },
      plain: {},
    };
    process.env.LOCAL_FUNCTION_IDENTITIES = JSON.stringify({ gate: 'svc-local-gate' });
    const plugin = new OfflineIdentities({ service: { functions } });
    plugin.hooks['before:offline:start:init']?.();
    expect(functions.gate?.environment).toEqual({
      KEEP: 'me',
      AWS_ACCESS_KEY_ID: 'svc-local-gate',
      AWS_SECRET_ACCESS_KEY: 'local-role-secret',
    });
    expect(functions.plain?.environment).toBeUndefined();
    // only offline hooks: packaging and deploying never see it
    expect(Object.keys(plugin.hooks).every((hook) => hook.includes('offline:start'))).toBe(true);
  });

  it('changes nothing outside the local cloud (no identities given)', () => {
    delete process.env.LOCAL_FUNCTION_IDENTITIES;
    const functions = { gate: { environment: { KEEP: 'me' } } };
    new OfflineIdentities({ service: { functions } }).hooks['before:offline:start']?.();
    expect(functions.gate.environment).toEqual({ KEEP: 'me' });
  });
});
