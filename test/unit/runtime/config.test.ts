import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  PlatformEnvironment,
  parseConfig,
  platformEnvironment,
} from '../../../lib/runtime/config.ts';

/** A complete, valid platform environment; tests remove or replace one key at a time. */
const VALID = {
  STAGE: 'dev',
  ORACLE_STORE_BUCKET: 'oracle-store',
  PLATFORM_BUCKET: 'platform-bucket',
  REQUIRED_STREAMS: 'traffic,context',
  DATABASE_URL: 'postgres://u@db:5432/fraud_platform',
} satisfies Record<string, string>;

function without(key: keyof typeof VALID): Record<string, string> {
  const { [key]: _removed, ...rest } = VALID;
  return rest;
}

function configErrorOf(source: Record<string, unknown>): ConfigError {
  try {
    parseConfig(PlatformEnvironment, source, 'platform environment');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but the environment parsed');
}

describe('parseConfig', () => {
  it('returns the parsed value of a valid source', () => {
    const schema = z.object({ PORT: z.coerce.number() });
    expect(parseConfig(schema, { PORT: '8080' })).toEqual({ PORT: 8080 });
  });

  it('names every failing key of a plain schema in one message, with "what" and the CONFIG_INVALID name', () => {
    const schema = z.object({ A: z.string(), B: z.coerce.number().int() });
    let caught: unknown;
    try {
      parseConfig(schema, { B: '1.5' }, 'test settings');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ name: 'CONFIG_INVALID' });
    const message = caught instanceof Error ? caught.message : '';
    expect(message).toMatch(/^invalid test settings: /);
    expect(message).toMatch(/A: /);
    expect(message).toMatch(/B: /);
    expect(message.split('\n')).toHaveLength(1);
  });

  it('labels a root-level failure as (root)', () => {
    expect(() => parseConfig(z.string(), {})).toThrow(/^invalid configuration: \(root\): /);
  });
});

describe('PlatformEnvironment', () => {
  it('parses a minimal environment and fills the defaults', () => {
    expect(parseConfig(PlatformEnvironment, VALID)).toEqual({
      STAGE: 'dev',
      SERVICE_NAME: 'fraud-platform',
      AWS_REGION: 'us-east-1',
      LOG_LEVEL: 'INFO',
      ORACLE_STORE_BUCKET: 'oracle-store',
      PLATFORM_BUCKET: 'platform-bucket',
      REQUIRED_STREAMS: ['traffic', 'context'],
      DATABASE_URL: 'postgres://u@db:5432/fraud_platform',
      DATABASE_URL_SSM_PARAMETER: undefined,
      S3_ENDPOINT: undefined,
      KINESIS_ENDPOINT: undefined,
      SFN_ENDPOINT: undefined,
      LAMBDA_ENDPOINT: undefined,
      BUS_STREAM_PREFIX: '',
      AWS_ENDPOINT_URL: undefined,
      LOCALSTACK_HOSTNAME: undefined,
      EDGE_PORT: 4566,
    });
  });

  it.each(['ORACLE_STORE_BUCKET', 'PLATFORM_BUCKET', 'REQUIRED_STREAMS', 'STAGE'] as const)(
    'a missing %s is named in the CONFIG_INVALID message',
    (key) => {
      const error = configErrorOf(without(key));
      expect(error.name).toBe('CONFIG_INVALID');
      expect(error.message).toContain(`invalid platform environment: ${key}: `);
    },
  );

  it('turns empty or blank optional endpoints into undefined and trims set ones', () => {
    const env = parseConfig(PlatformEnvironment, {
      ...VALID,
      S3_ENDPOINT: '',
      KINESIS_ENDPOINT: '   ',
      SFN_ENDPOINT: ' http://127.0.0.1:4584 ',
      LAMBDA_ENDPOINT: '',
    });
    expect(env.S3_ENDPOINT).toBeUndefined();
    expect(env.KINESIS_ENDPOINT).toBeUndefined();
    expect(env.LAMBDA_ENDPOINT).toBeUndefined();
    expect(env.SFN_ENDPOINT).toBe('http://127.0.0.1:4584');
  });

  it('rejects an endpoint that is set but is no URL, naming it', () => {
    expect(configErrorOf({ ...VALID, KINESIS_ENDPOINT: 'localhost-4569' }).message).toContain(
      'KINESIS_ENDPOINT: ',
    );
  });

  it('splits REQUIRED_STREAMS on commas, trims each name and drops empty entries', () => {
    const env = parseConfig(PlatformEnvironment, {
      ...VALID,
      REQUIRED_STREAMS: ' traffic , context,,audit ,',
    });
    expect(env.REQUIRED_STREAMS).toEqual(['traffic', 'context', 'audit']);
  });

  it('an empty REQUIRED_STREAMS is rejected, naming it', () => {
    expect(configErrorOf({ ...VALID, REQUIRED_STREAMS: '' }).message).toContain('REQUIRED_STREAMS: ');
  });

  it.each([' ', ',', ' , ,', ',,,'])(
    'a REQUIRED_STREAMS of %j names no stream and is rejected, naming it',
    (value) => {
      const error = configErrorOf({ ...VALID, REQUIRED_STREAMS: value });
      expect(error.name).toBe('CONFIG_INVALID');
      expect(error.message).toContain('REQUIRED_STREAMS: must name at least one stream');
    },
  );

  it('a bad STAGE and no database setting are both named in the one message', () => {
    const { DATABASE_URL: _url, ...rest } = VALID;
    const error = configErrorOf({ ...rest, STAGE: 'qa' });
    expect(error.message.split('\n')).toHaveLength(1);
    expect(error.message).toMatch(/^invalid platform environment: /);
    expect(error.message).toContain('STAGE: ');
    expect(error.message).toContain('DATABASE_URL: set DATABASE_URL or DATABASE_URL_SSM_PARAMETER');
  });

  it('without DATABASE_URL and DATABASE_URL_SSM_PARAMETER the error names DATABASE_URL', () => {
    const error = configErrorOf(without('DATABASE_URL'));
    expect(error.message).toBe(
      'invalid platform environment: DATABASE_URL: set DATABASE_URL or DATABASE_URL_SSM_PARAMETER',
    );
    // blank counts as unset
    expect(configErrorOf({ ...VALID, DATABASE_URL: '  ', DATABASE_URL_SSM_PARAMETER: '' }).message).toContain(
      'DATABASE_URL: set DATABASE_URL or DATABASE_URL_SSM_PARAMETER',
    );
  });

  it('DATABASE_URL_SSM_PARAMETER alone is enough', () => {
    const env = parseConfig(PlatformEnvironment, {
      ...without('DATABASE_URL'),
      DATABASE_URL_SSM_PARAMETER: '/fraud/dev/database-url',
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.DATABASE_URL_SSM_PARAMETER).toBe('/fraud/dev/database-url');
  });

  it.each(['qa', 'Dev', ''])('a bad STAGE %j is named', (stage) => {
    expect(configErrorOf({ ...VALID, STAGE: stage }).message).toMatch(
      /STAGE: .*"local"\|"localstack"\|"dev"\|"prod"/,
    );
  });

  it('a bad LOG_LEVEL is named', () => {
    expect(configErrorOf({ ...VALID, LOG_LEVEL: 'TRACE' }).message).toContain('LOG_LEVEL: ');
  });

  it('names every bad key when several fields fail at once', () => {
    const message = configErrorOf({
      ...VALID,
      STAGE: 'qa',
      PLATFORM_BUCKET: 'x',
      S3_ENDPOINT: 'nope',
    }).message;
    expect(message).toContain('STAGE: ');
    expect(message).toContain('PLATFORM_BUCKET: ');
    expect(message).toContain('S3_ENDPOINT: ');
  });
});

describe('platformEnvironment', () => {
  it('parses once per process: a later call with another source returns the first result', () => {
    const first = platformEnvironment(VALID);
    expect(first.STAGE).toBe('dev');
    expect(platformEnvironment({ ...VALID, STAGE: 'prod' })).toBe(first);
  });
});

describe('PlatformEnvironment: stream prefix and LocalStack endpoints', () => {
  it('defaults BUS_STREAM_PREFIX to empty and refuses characters Kinesis names cannot hold', () => {
    expect(parseConfig(PlatformEnvironment, VALID).BUS_STREAM_PREFIX).toBe('');
    expect(
      parseConfig(PlatformEnvironment, { ...VALID, BUS_STREAM_PREFIX: 'fraud-platform-dev-' })
        .BUS_STREAM_PREFIX,
    ).toBe('fraud-platform-dev-');
    expect(configErrorOf({ ...VALID, BUS_STREAM_PREFIX: 'a/b' }).message).toMatch(/BUS_STREAM_PREFIX/);
  });

  it('points every client at the edge LocalStack names, on stage localstack only', () => {
    const inside = {
      ...VALID,
      STAGE: 'localstack',
      AWS_ENDPOINT_URL: 'http://localhost.localstack.cloud:4566',
    };
    const env = parseConfig(PlatformEnvironment, inside);
    expect([env.S3_ENDPOINT, env.KINESIS_ENDPOINT, env.SFN_ENDPOINT, env.LAMBDA_ENDPOINT]).toEqual(
      Array(4).fill('http://localhost.localstack.cloud:4566'),
    );
    const older = parseConfig(PlatformEnvironment, {
      ...VALID,
      STAGE: 'localstack',
      LOCALSTACK_HOSTNAME: '172.17.0.2',
    });
    expect(older.KINESIS_ENDPOINT).toBe('http://172.17.0.2:4566');
    const explicit = parseConfig(PlatformEnvironment, { ...inside, S3_ENDPOINT: 'http://s3.example:9000' });
    expect(explicit.S3_ENDPOINT).toBe('http://s3.example:9000');
    expect(explicit.KINESIS_ENDPOINT).toBe('http://localhost.localstack.cloud:4566');
    // On AWS an AWS_ENDPOINT_URL in the environment changes nothing the platform sets itself.
    const aws = parseConfig(PlatformEnvironment, { ...VALID, AWS_ENDPOINT_URL: 'http://elsewhere:1' });
    expect(aws.S3_ENDPOINT).toBeUndefined();
    expect(configErrorOf({ ...VALID, STAGE: 'localstack', LOCALSTACK_HOSTNAME: 'a b' }).message).toMatch(
      /LOCALSTACK_HOSTNAME/,
    );
  });
});
