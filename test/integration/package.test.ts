import { describe, expect, it } from 'vitest';
import { runScript } from '../support/cli.ts';

describe('npm run package', () => {
  it.each(['local', 'prod'])(
    'packages stage %s offline with every state machine valid ASL',
    async (stage) => {
      const r = await runScript('local/package-service.ts', ['--stage', stage]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/AWS::Lambda::Function: \d+/);
      expect(r.stdout).toMatch(/AWS::Kinesis::Stream: 10/);
      expect(r.stdout).toMatch(/ASL \w+: valid/);
    },
  );

  it('refuses an unknown stage with one line (exit 2)', async () => {
    const r = await runScript('local/package-service.ts', ['--stage', 'staging']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('package: unknown stage "staging"; stages: local, dev, prod');
  });
});
