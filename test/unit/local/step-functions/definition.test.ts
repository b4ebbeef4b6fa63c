import type { SFNClient } from '@aws-sdk/client-sfn';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { choiceRuleForEngine, engineDefinition } from '../../../../local/step-functions/definition.ts';
import { startStepFunctionsServer } from '../../../../local/step-functions/server.ts';
import {
  ACCOUNT,
  type FakeLambdaEndpoint,
  REGION,
  sfnClient,
  startFakeLambdaEndpoint,
  stateMachineArn,
  waitForCompletion,
} from './fixtures.ts';

// A default for an optional input field, the way the oracle pipeline sets sort_budget_bytes.
const defaults = {
  StartAt: 'Defaults',
  States: {
    Defaults: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.budget', IsPresent: false, Next: 'SetDefault' },
        { And: [{ Variable: '$.budget', IsNumeric: false }], Next: 'NotANumber' },
      ],
      Default: 'Done',
    },
    SetDefault: { Type: 'Pass', Result: 'configured', ResultPath: '$.budget', Next: 'Done' },
    NotANumber: { Type: 'Fail', Error: 'BUDGET_NOT_A_NUMBER' },
    Done: { Type: 'Succeed' },
  },
};

describe('local Step Functions: definitions as AWS reads them', () => {
  it('rewrites every false type test as Not of the true one, keeping Next at the top', () => {
    expect(choiceRuleForEngine({ Variable: '$.a', IsPresent: false, Next: 'X' })).toEqual({
      Next: 'X',
      Not: { Variable: '$.a', IsPresent: true },
    });
    expect(
      choiceRuleForEngine({
        Or: [{ Variable: '$.a', IsNull: false }, { Not: { Variable: '$.b', IsString: false } }],
        Next: 'Y',
      }),
    ).toEqual({
      Or: [{ Not: { Variable: '$.a', IsNull: true } }, { Not: { Not: { Variable: '$.b', IsString: true } } }],
      Next: 'Y',
    });
    const untouched = { Variable: '$.a', IsPresent: true, Next: 'Z' };
    expect(choiceRuleForEngine(untouched)).toBe(untouched);
  });

  it('refuses a Map with a tolerated failure threshold, which the engine would silently ignore', () => {
    const map = (extra: Record<string, unknown>) => ({
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          ...extra,
          ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
          End: true,
        },
      },
    });
    for (const field of ['ToleratedFailurePercentage', 'ToleratedFailureCount', 'ToleratedFailureCountPath'])
      expect(() => engineDefinition(map({ [field]: field.endsWith('Path') ? '$.n' : 5 })), field).toThrow(
        new RegExp(`Map state M: ${field} is not supported by the local Step Functions engine`),
      );
    expect(() => engineDefinition(map({ MaxConcurrency: 2 }))).not.toThrow();
  });

  it('refuses a falsy Pass Result, which the engine would silently replace by the input', () => {
    expect(() =>
      engineDefinition({ StartAt: 'P', States: { P: { Type: 'Pass', Result: 0, End: true } } }),
    ).toThrow(/Pass state P: Result 0 is falsy/);
    expect(() =>
      engineDefinition({ StartAt: 'P', States: { P: { Type: 'Pass', Result: 1, End: true } } }),
    ).not.toThrow();
  });

  describe('on the engine', () => {
    let lambda: FakeLambdaEndpoint;
    let server: Awaited<ReturnType<typeof startStepFunctionsServer>>;
    let client: SFNClient;

    beforeAll(async () => {
      lambda = await startFakeLambdaEndpoint({});
      server = await startStepFunctionsServer({
        host: '127.0.0.1',
        port: 0,
        region: REGION,
        accountId: ACCOUNT,
        lambdaEndpoint: lambda.url,
        stateMachines: [{ name: 'defaults', definition: defaults }],
      });
      client = sfnClient(server.url);
    });
    afterAll(async () => {
      client?.destroy();
      await server?.close();
      await lambda?.close();
    });

    const run = async (name: string, input: unknown) => {
      const { executionArn } = await client.send(
        new StartExecutionCommand({
          stateMachineArn: stateMachineArn('defaults'),
          name,
          input: JSON.stringify(input),
        }),
      );
      return waitForCompletion(client, executionArn ?? '');
    };

    it('IsPresent: false matches a missing field, and the default is set', async () => {
      const done = await run('missing', {});
      expect(done.status).toBe('SUCCEEDED');
      expect(JSON.parse(done.output ?? 'null')).toEqual({ budget: 'configured' });
    });

    it('a present numeric field passes both false tests untouched', async () => {
      const done = await run('given', { budget: 5 });
      expect(done.status).toBe('SUCCEEDED');
      expect(JSON.parse(done.output ?? 'null')).toEqual({ budget: 5 });
    });

    it('IsNumeric: false matches a string', async () => {
      const done = await run('string', { budget: 'lots' });
      expect(done.status).toBe('FAILED');
      expect(done.error).toBe('BUDGET_NOT_A_NUMBER');
    });
  });
});
