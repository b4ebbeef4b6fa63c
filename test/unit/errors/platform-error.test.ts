import { describe, expect, it } from 'vitest';
import {
  describeIssues,
  PlatformError,
  PoisonError,
  RequestInvalid,
  RetryableError,
} from '../../../lib/errors/platform-error.ts';

describe('PlatformError', () => {
  it('the code is the name; the message defaults to CODE: detail', () => {
    const error = new PlatformError('SEALED_PACK_CHANGED', undefined, { detail: 'x differs' });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'SEALED_PACK_CHANGED',
      code: 'SEALED_PACK_CHANGED',
      retryable: false,
    });
    expect(error.message).toBe('SEALED_PACK_CHANGED: x differs');
    expect(new PlatformError('LEASE_LOST').message).toBe('LEASE_LOST');
  });

  it('a request that fails its schema is a 400 that no retry helps', () => {
    expect(new RequestInvalid('ORACLE_REQUEST_INVALID', 'a: b')).toMatchObject({
      name: 'ORACLE_REQUEST_INVALID',
      message: 'a: b',
      detail: 'a: b',
      httpStatus: 400,
      retryable: false,
    });
  });

  it('stream verdicts: retryable and poison keep their names', () => {
    expect(new RetryableError('down')).toMatchObject({
      name: 'RetryableError',
      retryable: true,
      message: 'down',
    });
    expect(new PoisonError('bad')).toMatchObject({ name: 'PoisonError', retryable: false, message: 'bad' });
    expect(new PoisonError('bad', 'RECORD_INVALID').name).toBe('RECORD_INVALID');
  });

  it('describeIssues: path: message, paths of keys or segments, root issues bare', () => {
    expect(
      describeIssues([
        { path: ['a', 0, 'b'], message: 'required' },
        { path: [{ key: 'c' }], message: 'too small' },
        { message: 'not JSON' },
      ]),
    ).toBe('a.0.b: required; c: too small; not JSON');
  });
});
