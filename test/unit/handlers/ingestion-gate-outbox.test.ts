import './handler-environment.ts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/ingestion-gate/outbox.ts';
import { PlatformError } from '../../../lib/errors/platform-error.ts';
import { drainOutbox } from '../../../lib/ingestion-gate/admission.ts';
import { lambdaContext, scheduleEvent, taskFailure } from './factories.ts';

vi.mock('../../../lib/adapters/ingestion-gate-dependencies.ts', () => ({
  ingestionGate: () => ({ gateway: {}, context: async () => ({ port: 'admission context' }) }),
}));
vi.mock('../../../lib/ingestion-gate/admission.ts', async (original) => ({
  ...(await original<typeof import('../../../lib/ingestion-gate/admission.ts')>()),
  drainOutbox: vi.fn(),
}));

const core = vi.mocked(drainOutbox);

describe('ingestion-gate outbox handler (schedule edge)', () => {
  beforeEach(() => {
    core.mockReset();
  });

  it('drains the outbox as the outbox actor and answers how many it admitted', async () => {
    core.mockResolvedValue([{}, {}] as never);
    await expect(handler(scheduleEvent(), lambdaContext())).resolves.toEqual({ admitted: 2 });
    expect(core).toHaveBeenCalledWith(
      { port: 'admission context' },
      {
        actor_id: 'SYSTEM::ig-outbox',
        source_type: 'SYSTEM',
      },
    );
  });

  it('a manual invoke (an empty event) is a tick too', async () => {
    core.mockResolvedValue([]);
    await expect(handler({}, lambdaContext())).resolves.toEqual({ admitted: 0 });
  });

  it('an event that is not a schedule event fails before the core', async () => {
    await expect(handler({ id: 7 }, lambdaContext())).rejects.toMatchObject({ name: 'ParseError' });
    expect(core).not.toHaveBeenCalled();
  });

  it('a core error is thrown as it is (the next tick runs again)', async () => {
    core.mockRejectedValue(new PlatformError('DB_UNAVAILABLE', 'no pool', { retryable: true }));
    await expect(taskFailure(handler(scheduleEvent(), lambdaContext()))).resolves.toEqual({
      name: 'DB_UNAVAILABLE',
      message: 'no pool',
    });
  });
});
