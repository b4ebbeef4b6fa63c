import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/runtime/config.ts';
import {
  endpoints,
  PART_NAMES,
  PORT_KEYS,
  partPort,
  paths,
  stackConfig,
} from '../../../local/stack-config.ts';
import { spawnSpec } from '../../../local/stack-parts.ts';

function errorOf(source: Record<string, string | undefined>): Error {
  try {
    stackConfig(source);
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error('expected stackConfig to throw');
}

describe('stackConfig', () => {
  it('fills every default from an empty environment', () => {
    const c = stackConfig({});
    expect(c.env).toEqual({
      LOCAL_CLOUD_DIR: '.local',
      LOCAL_SERVICE_DIR: '.',
      LOCAL_POSTGRES_PORT: 5433,
      LOCAL_KINESIS_PORT: 4569,
      LOCAL_S3_PORT: 4575,
      LOCAL_HTTP_PORT: 3000,
      LOCAL_LAMBDA_PORT: 3002,
      LOCAL_WEBSOCKET_PORT: 3001,
      LOCAL_SFN_PORT: 4584,
      LOCAL_ESM_PORT: 4590,
      LOCAL_EDGE_PORT: 4566,
      LOCAL_REGION: 'us-east-1',
      LOCAL_ACCOUNT_ID: '000000000000',
      LOCAL_ESM_IDLE_MAX_MS: 250,
      LOCAL_ESM_CLOCK_OFFSET_SECONDS: 0,
      LOCAL_AWS_CALLS: 'direct',
      LOCAL_SFN_MAX_HISTORY_EVENTS: 25_000,
      LOCAL_STARTUP_TIMEOUT_SECONDS: 120,
    });
    expect(c.dataDir).toBe(path.resolve('.local'));
    expect(c.serviceDir).toBe(path.resolve('.'));
    expect(c.stage).toBe('local');
    expect(c.host).toBe('127.0.0.1');
  });

  it('reads ports from their string environment values', () => {
    const c = stackConfig({ LOCAL_S3_PORT: '14575', LOCAL_CLOUD_DIR: '/tmp/cloud-x' });
    expect(c.env.LOCAL_S3_PORT).toBe(14575);
    expect(c.dataDir).toBe('/tmp/cloud-x');
    expect(endpoints(c).s3).toBe('http://127.0.0.1:14575');
    expect(partPort(c, 's3')).toBe(14575);
  });

  it.each(PORT_KEYS)('%s out of range or not a number is refused, naming the key', (key) => {
    for (const bad of ['80', '1023', '65536', 'abc', '', '4575.5']) {
      const error = errorOf({ [key]: bad });
      expect(error.name, `${key}=${bad}`).toBe('CONFIG_INVALID');
      expect(error.message, `${key}=${bad}`).toContain(`invalid local cloud configuration: ${key}: `);
    }
  });

  it('accepts the edges of the port range', () => {
    expect(stackConfig({ LOCAL_S3_PORT: '1024', LOCAL_ESM_PORT: '65535' }).env).toMatchObject({
      LOCAL_S3_PORT: 1024,
      LOCAL_ESM_PORT: 65535,
    });
  });

  it('two keys with the same port is an error naming both keys and the port', () => {
    const error = errorOf({ LOCAL_SFN_PORT: '6000', LOCAL_ESM_PORT: '6000' });
    expect(error.message).toBe(
      'invalid local cloud configuration: LOCAL_ESM_PORT: port 6000 is also given to LOCAL_SFN_PORT',
    );
  });

  it('the duplicate-port error is a ConfigError named CONFIG_INVALID, like every other configuration error', () => {
    const error = errorOf({ LOCAL_SFN_PORT: '6000', LOCAL_ESM_PORT: '6000' });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.name).toBe('CONFIG_INVALID');
  });

  it('a port colliding with another key default is refused too', () => {
    const error = errorOf({ LOCAL_ESM_PORT: '5433' });
    expect(error.message).toContain('LOCAL_ESM_PORT');
    expect(error.message).toContain('LOCAL_POSTGRES_PORT');
  });

  it('refuses an account id that is not 12 digits and a non-positive startup timeout, naming them', () => {
    expect(errorOf({ LOCAL_ACCOUNT_ID: '12345' }).message).toContain('LOCAL_ACCOUNT_ID: must be 12 digits');
    expect(errorOf({ LOCAL_STARTUP_TIMEOUT_SECONDS: '0' }).message).toContain(
      'LOCAL_STARTUP_TIMEOUT_SECONDS: ',
    );
    expect(errorOf({ LOCAL_STARTUP_TIMEOUT_SECONDS: '601' }).message).toContain(
      'LOCAL_STARTUP_TIMEOUT_SECONDS: ',
    );
  });

  it('hands the Step Functions history limit to its part, and refuses one outside 20..25,000, naming the key', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-config-'));
    try {
      const c = stackConfig({ LOCAL_CLOUD_DIR: dataDir, LOCAL_SFN_MAX_HISTORY_EVENTS: '600' });
      expect(c.env.LOCAL_SFN_MAX_HISTORY_EVENTS).toBe(600);
      expect(spawnSpec(c, 'step-functions').env.PART_MAX_HISTORY_EVENTS).toBe('600');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    for (const bad of ['19', '25001', 'many', '600.5']) {
      expect(errorOf({ LOCAL_SFN_MAX_HISTORY_EVENTS: bad }).message, bad).toContain(
        'invalid local cloud configuration: LOCAL_SFN_MAX_HISTORY_EVENTS: ',
      );
    }
  });

  it('gives every part its own port and every endpoint its configured port', () => {
    const c = stackConfig({});
    const ports = PART_NAMES.map((part) => partPort(c, part));
    expect(ports).toEqual([5433, 4569, 4575, 3002, 4584, 4590, 4566]);
    expect(endpoints(c)).toEqual({
      postgres: 'postgres://postgres@127.0.0.1:5433/fraud_platform',
      kinesis: 'http://127.0.0.1:4569',
      s3: 'http://127.0.0.1:4575',
      http: 'http://127.0.0.1:3000',
      lambda: 'http://127.0.0.1:3002',
      sfn: 'http://127.0.0.1:4584',
      esm: 'http://127.0.0.1:4590',
      edge: 'http://127.0.0.1:4566',
    });
  });

  it('keeps all local state under the data directory', () => {
    const c = stackConfig({ LOCAL_CLOUD_DIR: '/tmp/lc' });
    for (const p of Object.values(paths(c))) expect(p.startsWith('/tmp/lc/')).toBe(true);
    expect(paths(c).state).toBe('/tmp/lc/stack.json');
  });
});
