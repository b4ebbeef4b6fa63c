import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bucketKeys, listPage } from '../../../local/parts/s3-list-objects.ts';

const KEYS = [
  'platform_1/ig/receipts/segments/a.jsonl',
  'platform_1/ig/receipts/segments/b.jsonl',
  'platform_1/lifecycle/P0.json',
  'platform_1/obs/governance/events/e1.json',
  'platform_1/run_pin.json',
  'platform_1/sr/instance_receipts/x/r.json',
  'platform_1/sr/ready_signal/s.json',
  'top.json',
];

const page = (request: Partial<Parameters<typeof listPage>[1]>) =>
  listPage(KEYS, { prefix: '', delimiter: '', maxKeys: 1000, after: '', ...request });

describe('listPage (S3 ListObjects semantics)', () => {
  it('groups keys at any depth below the prefix into common prefixes', () => {
    expect(page({ prefix: 'platform_1/', delimiter: '/' })).toEqual({
      keys: ['platform_1/run_pin.json'],
      commonPrefixes: ['platform_1/ig/', 'platform_1/lifecycle/', 'platform_1/obs/', 'platform_1/sr/'],
      truncated: false,
      last: 'platform_1/sr/',
    });
    expect(page({ prefix: 'platform_1/sr/', delimiter: '/' }).commonPrefixes).toEqual([
      'platform_1/sr/instance_receipts/',
      'platform_1/sr/ready_signal/',
    ]);
    expect(page({ prefix: 'platform_1/ig/', delimiter: '/' }).commonPrefixes).toEqual([
      'platform_1/ig/receipts/',
    ]);
    expect(page({ delimiter: '/' })).toMatchObject({ keys: ['top.json'], commonPrefixes: ['platform_1/'] });
  });

  it('counts keys and common prefixes together against max-keys, and resumes after a whole common prefix', () => {
    const first = page({ prefix: 'platform_1/', delimiter: '/', maxKeys: 2 });
    expect(first).toEqual({
      keys: [],
      commonPrefixes: ['platform_1/ig/', 'platform_1/lifecycle/'],
      truncated: true,
      last: 'platform_1/lifecycle/',
    });
    const second = page({ prefix: 'platform_1/', delimiter: '/', maxKeys: 2, after: first.last });
    expect(second).toMatchObject({ commonPrefixes: ['platform_1/obs/'], keys: ['platform_1/run_pin.json'] });
    expect(second.truncated).toBe(true);
    const third = page({ prefix: 'platform_1/', delimiter: '/', maxKeys: 2, after: second.last });
    expect(third).toEqual({
      keys: [],
      commonPrefixes: ['platform_1/sr/'],
      truncated: false,
      last: 'platform_1/sr/',
    });
  });

  it('without a delimiter lists every key after the position, max-keys at a time', () => {
    const all: string[] = [];
    let after = '';
    for (let pages = 0; pages < 10; pages++) {
      const p = page({ maxKeys: 3, after });
      all.push(...p.keys);
      if (!p.truncated) break;
      after = p.last ?? '';
    }
    expect(all).toEqual(KEYS);
  });
});

describe('bucketKeys', () => {
  it('finds the objects s3rver stores at any depth, in byte order, walking only below the prefix folder', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's3-list-'));
    for (const key of [...KEYS].reverse()) {
      const file = path.join(dir, `${key}._S3rver_object`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, 'x');
      fs.writeFileSync(`${file}.md5`, 'y'); // s3rver's side files are not objects
    }
    expect(bucketKeys(dir, '')).toEqual(KEYS);
    expect(bucketKeys(dir, 'platform_1/sr/')).toEqual(KEYS.filter((k) => k.startsWith('platform_1/sr/')));
    expect(bucketKeys(dir, 'platform_1/s')).toEqual(KEYS.filter((k) => k.startsWith('platform_1/s')));
    expect(bucketKeys(dir, 'nothing/here/')).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
