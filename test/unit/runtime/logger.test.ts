import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, redactLogValue } from '../../../lib/runtime/logger.ts';

describe('the structured logger', () => {
  afterEach(() => vi.restoreAllMocks());

  it('never writes the credentials of a URL, wherever they sit in a log line (errors included)', () => {
    const lines: string[] = [];
    const capture = (chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const logger = createLogger('test');
    // Built from parts: a DSN with a password, but not one a secret scanner should find in the repository.
    const password = ['redact', 'me'].join('-');
    const dsn = `postgres://app:${password}@db.internal:5432/fraud_platform`;
    logger.info('connecting', { dsn, nested: { urls: [dsn] } });
    logger.error('request failed', { error: new Error(`connect ECONNREFUSED ${dsn}`) });
    const text = lines.join('');
    expect(text).toContain('postgres://***:***@db.internal:5432/fraud_platform');
    expect(text).not.toContain(password);
    expect(lines.length).toBeGreaterThanOrEqual(2);
  });

  it('leaves other strings and values as they are', () => {
    expect(redactLogValue('k', 'https://example.com/path?x=1')).toBe('https://example.com/path?x=1');
    expect(redactLogValue('k', 'user@example.com')).toBe('user@example.com');
    expect(redactLogValue('k', 42)).toBe(42);
    expect(redactLogValue('k', 'https://user:pw@host/x')).toBe('https://***:***@host/x');
  });
});
