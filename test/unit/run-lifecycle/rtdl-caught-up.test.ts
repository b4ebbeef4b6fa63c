import { describe, expect, it } from 'vitest';
import {
  checkCaughtUp,
  PROJECTORS,
  type Projector,
  type ProjectorProgress,
} from '../../../lib/run-lifecycle/rtdl-caught-up.ts';
import { ADMITTED, ALL_TOPICS, caughtUp, fakePorts, NOW, RUN, T } from './rtdl-caught-up-world.ts';

/**
 * P8 RTDL_CAUGHT_UP's check (lib/run-lifecycle/rtdl-caught-up.ts `checkCaughtUp`) on fake ports: caught up by
 * position and by count, behind, lagging, timed out.
 */

describe('checkCaughtUp', () => {
  it('every projector at IG’s highest offsets with every event accounted: caught up', async () => {
    const { ports, asked } = fakePorts();
    const result = await checkCaughtUp({ platform_run_id: RUN }, ports, 900);
    expect(result).toMatchObject({
      platform_run_id: RUN,
      since: NOW.toISOString(),
      waited_seconds: 0,
      caught_up: true,
      timed_out: false,
      admitted_events: 17,
      lagging: [],
    });
    expect(asked).toEqual(PROJECTORS.map((p) => [p, RUN]));
    // Each projector is checked on the admitted topics it consumes.
    const topicsOf = (p: Projector) => result.checks.filter((c) => c.projector === p).map((c) => c.topic);
    expect(topicsOf('archive-writer')).toEqual([T.traffic, T.events, T.entities, T.anchor]);
    expect(topicsOf('identity-graph')).toEqual([T.traffic, T.events, T.entities, T.anchor]);
    expect(topicsOf('context-store')).toEqual([T.events, T.entities, T.anchor]);
    expect(topicsOf('online-features')).toEqual([T.traffic, T.anchor]);
    expect(result.checks.find((c) => c.projector === 'online-features' && c.topic === T.traffic)).toEqual({
      projector: 'online-features',
      topic: T.traffic,
      admitted: 5,
      accounted: 5,
      partitions_behind: [],
      caught_up: true,
    });
  });

  it('a partition whose checkpoint is below IG’s highest offset is behind (offsets compared as numbers)', async () => {
    const progress = caughtUp(ALL_TOPICS);
    const behind = progress.checkpoints.map((c) =>
      c.topic === T.traffic && c.partition === 1 ? { ...c, next_offset: '99' } : c,
    );
    const { ports } = fakePorts({ 'identity-graph': { ...progress, checkpoints: behind } });
    const result = await checkCaughtUp({ platform_run_id: RUN }, ports, 900);
    expect(result.caught_up).toBe(false);
    expect(result.timed_out).toBe(false);
    expect(result.checks.filter((c) => !c.caught_up)).toEqual([
      {
        projector: 'identity-graph',
        topic: T.traffic,
        admitted: 5,
        accounted: 5,
        partitions_behind: [1],
        caught_up: false,
      },
    ]);
    expect(result.lagging).toEqual([
      `RTDL_LAGGING:identity-graph:${T.traffic} (accounted 5 of 5; partitions behind: 1)`,
    ]);
  });

  it('a checkpoint past the admitted offset is not behind ("1000" > "999" though it sorts first as text)', async () => {
    const admitted = [{ topic: T.traffic, partition: 0, events: 1, max_offset: '999' }];
    const progress: ProjectorProgress = {
      checkpoints: [{ topic: T.traffic, partition: 0, next_offset: '1000' }],
      accounted: { [T.traffic]: 1 },
    };
    const { ports } = fakePorts({}, admitted);
    const everyone = Object.fromEntries(PROJECTORS.map((p) => [p, progress]));
    const result = await checkCaughtUp(
      { platform_run_id: RUN },
      { ...ports, progress: async (p) => everyone[p] as ProjectorProgress },
      900,
    );
    expect(result.caught_up).toBe(true);
  });

  it('a partition without any checkpoint is behind', async () => {
    const progress = caughtUp(ALL_TOPICS);
    const { ports } = fakePorts({
      'context-store': {
        ...progress,
        checkpoints: progress.checkpoints.filter((c) => c.topic !== T.entities),
      },
    });
    const result = await checkCaughtUp({ platform_run_id: RUN }, ports, 900);
    expect(result.lagging).toEqual([
      `RTDL_LAGGING:context-store:${T.entities} (accounted 4 of 4; partitions behind: 0)`,
    ]);
  });

  it('fewer events accounted than IG admitted is lagging though every checkpoint is there', async () => {
    const progress = caughtUp(ALL_TOPICS);
    const { ports } = fakePorts({
      'online-features': { ...progress, accounted: { ...progress.accounted, [T.anchor]: 3 } },
      'archive-writer': { ...progress, accounted: { ...progress.accounted, [T.events]: 0 } },
    });
    const result = await checkCaughtUp({ platform_run_id: RUN }, ports, 900);
    expect(result.caught_up).toBe(false);
    expect(result.lagging).toEqual([
      `RTDL_LAGGING:archive-writer:${T.events} (accounted 0 of 4)`,
      `RTDL_LAGGING:online-features:${T.anchor} (accounted 3 of 4)`,
    ]);
  });

  it('a topic missing from accounted counts 0', async () => {
    const progress = caughtUp(ALL_TOPICS);
    const { [T.traffic]: _gone, ...accounted } = progress.accounted;
    const { ports } = fakePorts({ 'online-features': { ...progress, accounted } });
    const result = await checkCaughtUp({ platform_run_id: RUN }, ports, 900);
    expect(result.lagging).toEqual([`RTDL_LAGGING:online-features:${T.traffic} (accounted 0 of 5)`]);
  });

  it('the decision lane’s topic (rtdl) is not P8’s: it keeps growing while the lane drains, P9 waits on it', async () => {
    const admitted = [...ADMITTED, { topic: T.rtdl, partition: 2, events: 7, max_offset: '55' }];
    const stale = caughtUp(ALL_TOPICS, ADMITTED); // knows nothing of fp.bus.rtdl.v1
    const { ports } = fakePorts(Object.fromEntries(PROJECTORS.map((p) => [p, stale])), admitted);
    const result = await checkCaughtUp({ platform_run_id: RUN }, ports, 900);
    expect(result.checks.filter((c) => c.topic === T.rtdl)).toEqual([]);
    expect(result.caught_up).toBe(true);
    expect(result.lagging).toEqual([]);
  });

  it('a projector is not checked on a topic IG did not publish to', async () => {
    const admitted = ADMITTED.filter((a) => a.topic === T.traffic);
    const { ports } = fakePorts({}, admitted);
    const result = await checkCaughtUp({ platform_run_id: RUN }, ports, 900);
    expect(result.checks.map((c) => `${c.projector}:${c.topic}`)).toEqual([
      `archive-writer:${T.traffic}`,
      `identity-graph:${T.traffic}`,
      `online-features:${T.traffic}`,
    ]);
    expect(result.caught_up).toBe(true);
  });

  it('nothing admitted: caught up at once', async () => {
    const { ports } = fakePorts({}, []);
    const result = await checkCaughtUp({ platform_run_id: RUN, since: null }, ports, 900);
    expect(result).toMatchObject({ caught_up: true, admitted_events: 0, checks: [], timed_out: false });
  });

  it('lagging past the deadline counted from `since`: timed out, the summary names projector and topic', async () => {
    const progress = caughtUp(ALL_TOPICS);
    const { ports } = fakePorts({
      'context-store': { ...progress, accounted: { ...progress.accounted, [T.anchor]: 1 } },
    });
    const since = new Date(NOW.getTime() - 900_400).toISOString();
    const result = await checkCaughtUp({ platform_run_id: RUN, since }, ports, 900);
    expect(result).toMatchObject({ since, waited_seconds: 900.4, caught_up: false, timed_out: true });
    expect(result.lagging_summary).toBe(
      `waited 900 s: RTDL_LAGGING:context-store:${T.anchor} (accounted 1 of 4)`,
    );
  });

  it('lagging before the deadline is not timed out; caught up past it is not timed out either', async () => {
    const progress = caughtUp(ALL_TOPICS);
    const lagging = fakePorts({ 'context-store': { ...progress, accounted: {} } });
    const early = new Date(NOW.getTime() - 899_000).toISOString();
    expect(await checkCaughtUp({ platform_run_id: RUN, since: early }, lagging.ports, 900)).toMatchObject({
      caught_up: false,
      timed_out: false,
      waited_seconds: 899,
    });
    const late = new Date(NOW.getTime() - 5_000_000).toISOString();
    expect(await checkCaughtUp({ platform_run_id: RUN, since: late }, fakePorts().ports, 900)).toMatchObject({
      caught_up: true,
      timed_out: false,
    });
  });

  it('a request that is not one throws before any port is read', async () => {
    const { ports, asked } = fakePorts();
    await expect(checkCaughtUp({ platform_run_id: 'yesterday' }, ports, 900)).rejects.toThrow(
      /platform_run_id/,
    );
    await expect(checkCaughtUp({ platform_run_id: RUN, since: 'noon' }, ports, 900)).rejects.toThrow(/since/);
    expect(asked).toEqual([]);
  });
});
