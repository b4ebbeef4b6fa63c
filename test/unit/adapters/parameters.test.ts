import { describe, expect, it, vi } from 'vitest';
import { configuredSecret } from '../../../lib/adapters/parameters.ts';

describe('configuredSecret', () => {
  it('the plain value when set, without asking SSM', async () => {
    const secrets = vi.fn();
    await expect(configuredSecret(secrets, { plain: 'k', parameter: '/p', what: 'KEY' })()).resolves.toBe(
      'k',
    );
    expect(secrets).not.toHaveBeenCalled();
  });

  it('else the SSM SecureString, trimmed; read on every call (the provider caches)', async () => {
    const secrets = vi.fn(async () => ' s3cret \n');
    const secret = configuredSecret(secrets, { parameter: '/fraud/key', what: 'KEY' });
    await expect(secret()).resolves.toBe('s3cret');
    await secret();
    expect(secrets).toHaveBeenCalledWith('/fraud/key');
    expect(secrets).toHaveBeenCalledTimes(2);
  });

  it('a parameter without a value is CONFIG_INVALID naming it', async () => {
    const secret = configuredSecret(async () => undefined, {
      parameter: '/fraud/key',
      what: 'WSP_IG_API_KEY_SSM_PARAMETER',
    });
    await expect(secret()).rejects.toMatchObject({
      name: 'CONFIG_INVALID',
      message: 'WSP_IG_API_KEY_SSM_PARAMETER: /fraud/key has no value',
    });
  });

  it('neither set: empty', async () => {
    await expect(configuredSecret(vi.fn(), { what: 'KEY' })()).resolves.toBe('');
  });
});
