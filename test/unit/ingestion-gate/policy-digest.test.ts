import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { policyContentDigest } from '../../../lib/contracts/identity.ts';
import {
  IG_POLICY_CONTENT_DIGEST,
  IG_POLICY_FILES,
} from '../../../lib/ingestion-gate/reference/policy-digest.ts';

const DIR = path.resolve(import.meta.dirname, '../../fixtures/engine-reference/platform-config/ig');

describe('IG policy content digest (§5.4)', () => {
  it('is the digest of the reference policy files under their reference paths', () => {
    const files = IG_POLICY_FILES.map((p) => ({
      path: p,
      content: parse(fs.readFileSync(path.join(DIR, path.basename(p)), 'utf8'), { intAsBigInt: true }),
    }));
    expect(policyContentDigest(files)).toBe(IG_POLICY_CONTENT_DIGEST);
  });
});
