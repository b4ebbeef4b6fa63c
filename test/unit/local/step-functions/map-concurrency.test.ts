import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { startStepFunctionsServer } from '../../../../local/step-functions/server.ts';
import { eventually } from '../../../support/eventually.ts';
import {
  type FakeLambdaEndpoint,
  lambdaArn,
  startFakeLambdaEndpoint,
  startLocalStepFunctions,
  stateMachineArn,
  waitForCompletion,
} from './fixtures.ts';

/** A Map's MaxConcurrency / MaxConcurrencyPath bound how many iterations call their Lambda at once, as on AWS. */

const ITEMS = 8;
let inFlight = 0;
let peak = 0;
let release: Array<() => void> = [];

/** The Lambda holds each call until the test has seen how many are in flight, then lets them all go. */
function slowIdentity(event: unknown): Promise<unknown> {
  inFlight++;
  peak = Math.max(peak, inFlight);
  return new Promise((resolve) => {
    release.push(() => {
      inFlight--;
      resolve(event);
    });
  });
}

const mapOf = (concurrency: Record<string, unknown>) => ({
  StartAt: 'Each',
  States: {
    Each: {
      Type: 'Map',
      ItemsPath: '$.items',
      ...concurrency,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Call',
        States: { Call: { Type: 'Task', Resource: lambdaArn('slow'), End: true } },
      },
      End: true,
    },
  },
});

describe('local Step Functions: Map concurrency', () => {
  let lambda: FakeLambdaEndpoint;
  let server: Awaited<ReturnType<typeof startStepFunctionsServer>>;
  let client: SFNClient;

  beforeAll(async () => {
    lambda = await startFakeLambdaEndpoint({ slow: slowIdentity });
    ({ server, client } = await startLocalStepFunctions(
      [
        { name: 'map-two', definition: mapOf({ MaxConcurrency: 2 }) },
        { name: 'map-path', definition: mapOf({ MaxConcurrencyPath: '$.limit' }) },
        { name: 'map-unbounded', definition: mapOf({}) },
      ],
      lambda.url,
    ));
  });

  afterAll(async () => {
    await server?.close();
    await lambda?.close();
  });

  /**
   * Runs one execution, releasing the held calls in waves of `bound` (the calls the Map may have in flight); returns
   * the peak of calls in flight. Each wave is released once it is complete, after a short look for a call beyond it.
   */
  async function peakOf(machine: string, input: Record<string, unknown>, bound: number): Promise<number> {
    inFlight = 0;
    peak = 0;
    release = [];
    const start = await client.send(
      new StartExecutionCommand({ stateMachineArn: stateMachineArn(machine), input: JSON.stringify(input) }),
    );
    for (let released = 0; released < ITEMS; ) {
      const wave = Math.min(bound, ITEMS - released);
      await eventually(
        async () => (release.length >= wave ? true : undefined),
        `${wave} calls in flight`,
        10_000,
      );
      // Not a synchronisation: a Map that ignored its bound would start more calls here, and the peak shows it.
      await new Promise((r) => setTimeout(r, 100));
      const held = release;
      release = [];
      released += held.length;
      for (const go of held) go();
    }
    const done = await waitForCompletion(client, start.executionArn ?? '');
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? '[]')).toHaveLength(ITEMS);
    return peak;
  }

  const items = Array.from({ length: ITEMS }, (_, i) => ({ i }));

  it('MaxConcurrency 2: never more than two iterations call their Lambda at once', async () => {
    expect(await peakOf('map-two', { items }, 2)).toBe(2);
  });

  it('MaxConcurrencyPath takes the bound from the input', async () => {
    expect(await peakOf('map-path', { items, limit: 3 }, 3)).toBe(3);
  });

  it('no MaxConcurrency: every iteration may run at once', async () => {
    expect(await peakOf('map-unbounded', { items }, ITEMS)).toBe(ITEMS);
  });
});
