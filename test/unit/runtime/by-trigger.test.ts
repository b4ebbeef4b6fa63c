import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { byTrigger } from '../../../lib/runtime/edge/by-trigger.ts';
import { httpApiEvent, kinesisEvent, lambdaContext, scheduleEvent } from '../handlers/factories.ts';

/** One function, several triggers (lib/runtime/edge/by-trigger.ts): the event's shape picks the edge. */

const context = lambdaContext();

function handlers() {
  return {
    http: vi.fn(async (_event: unknown, _context: Context) => 'http' as const),
    stream: vi.fn(async (_event: unknown, _context: Context) => 'stream' as const),
    task: vi.fn(async (_event: unknown, _context: Context) => 'task' as const),
  };
}

describe('byTrigger', () => {
  it('an event with a requestContext goes to the HTTP edge, with the context', async () => {
    const h = handlers();
    const event = httpApiEvent({ body: '{}' });
    await expect(byTrigger(h)(event, context)).resolves.toBe('http');
    expect(h.http).toHaveBeenCalledWith(event, context);
    expect(h.stream).not.toHaveBeenCalled();
    expect(h.task).not.toHaveBeenCalled();
  });

  it('an event whose Records come from aws:kinesis goes to the stream edge', async () => {
    const h = handlers();
    const event = kinesisEvent([{ data: '{}' }, { data: 'x' }]);
    await expect(byTrigger(h)(event, context)).resolves.toBe('stream');
    expect(h.stream).toHaveBeenCalledWith(event, context);
    expect(h.http).not.toHaveBeenCalled();
  });

  it('anything else goes to the task edge', async () => {
    const sqs = { Records: [{ eventSource: 'aws:sqs', body: '{}' }] };
    for (const event of [
      { action: 'report', platform_run_id: 'platform_20260308T000000Z' },
      scheduleEvent(),
      sqs,
      { Records: [] },
      { Records: 'aws:kinesis' },
      { Records: [null] },
      null,
      undefined,
      'text',
      42,
    ]) {
      const h = handlers();
      await expect(byTrigger(h)(event, context), JSON.stringify(event)).resolves.toBe('task');
      expect(h.task).toHaveBeenCalledWith(event, context);
      expect(h.http).not.toHaveBeenCalled();
      expect(h.stream).not.toHaveBeenCalled();
    }
  });

  it('only the first record decides: a Kinesis first record makes the whole event a batch', async () => {
    const h = handlers();
    const event = { Records: [kinesisEvent([{ data: '{}' }]).Records[0], { eventSource: 'aws:sqs' }] };
    await expect(byTrigger(h)(event, context)).resolves.toBe('stream');
  });

  it('a trigger the function does not have falls to the task edge', async () => {
    const { task } = handlers();
    await expect(byTrigger({ task })(httpApiEvent(), context)).resolves.toBe('task');
    await expect(byTrigger({ task })(kinesisEvent([{ data: '{}' }]), context)).resolves.toBe('task');
    expect(task).toHaveBeenCalledTimes(2);
  });

  it('an HTTP event with Kinesis-looking Records is still HTTP (requestContext is checked first)', async () => {
    const h = handlers();
    const event = { ...httpApiEvent(), Records: kinesisEvent([{ data: '{}' }]).Records };
    await expect(byTrigger(h)(event, context)).resolves.toBe('http');
  });
});
