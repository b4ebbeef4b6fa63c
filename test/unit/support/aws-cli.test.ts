import { describe, expect, it } from 'vitest';
import { cmd, readsEndpointUrlVariable, s3Listing } from '../../support/aws-cli.ts';

describe('the AWS CLI tier’s helpers', () => {
  it.each([
    ['aws-cli/1.45.11 Python/3.11.7 Linux/6.1 botocore/1.43.11', true],
    ['aws-cli/1.29.0 Python/3.11 botocore/1.31.0', true],
    ['aws-cli/1.28.9 Python/3.11 botocore/1.30.9', false],
    ['aws-cli/2.9.19 Python/3.11.2 Linux/6.1 source/x86_64.debian.12 prompt/off', false],
    ['aws-cli/2.13.0 Python/3.11.4 Linux/6.1 exe/x86_64', true],
  ])('%s reads AWS_ENDPOINT_URL: %s', (version, reads) => {
    expect(readsEndpointUrlVariable(version)).toBe(reads);
  });

  it('refuses a version it cannot read', () => {
    expect(() => readsEndpointUrlVariable('aws version 3')).toThrow(/unrecognised/);
  });

  it('reads `aws s3 ls` output: common prefixes and objects; anything else is an error', () => {
    const out = [
      '                           PRE ig/',
      '                           PRE sr/',
      '2026-12-07 05:50:38        157 run_pin.json',
      '2026-12-07 05:50:48      37540 run/ig/receipts/segments/ab.jsonl',
      '',
    ].join('\n');
    expect(s3Listing(out)).toEqual({
      prefixes: ['ig/', 'sr/'],
      objects: [
        { size: 157, key: 'run_pin.json' },
        { size: 37540, key: 'run/ig/receipts/segments/ab.jsonl' },
      ],
    });
    expect(() => s3Listing('An error occurred')).toThrow(/not an `aws s3 ls` line/);
  });

  it('splits a command line as typed, keeping each interpolated value in its word', () => {
    const run = 'platform_20261207T055038Z';
    expect(cmd`s3 ls  --recursive s3://${'fraud-platform'}/${run}/ig/receipts/`).toEqual([
      's3',
      'ls',
      '--recursive',
      `s3://fraud-platform/${run}/ig/receipts/`,
    ]);
    expect(cmd`
      kinesis get-records --limit ${1} --query ${'Records[0].Data'} --x ${'a b'}
    `).toEqual(['kinesis', 'get-records', '--limit', '1', '--query', 'Records[0].Data', '--x', 'a b']);
  });
});
