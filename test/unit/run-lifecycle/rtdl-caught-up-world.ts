import type {
  AdmittedPartition,
  CaughtUpPorts,
  Projector,
  ProjectorProgress,
} from '../../../lib/run-lifecycle/rtdl-caught-up.ts';

/**
 * P8's fake world for the unit tests (lib/run-lifecycle/rtdl-caught-up.ts): what IG admitted per (topic, partition),
 * each projector's checkpoints and accounted events, a fixed clock.
 */

export const RUN = 'platform_20260308T000000Z';
export const NOW = new Date('2026-03-08T01:00:00.000Z');
export const T = {
  traffic: 'fp.bus.traffic.fraud.v1',
  events: 'fp.bus.context.arrival_events.v1',
  entities: 'fp.bus.context.arrival_entities.v1',
  anchor: 'fp.bus.context.flow_anchor.fraud.v1',
  rtdl: 'fp.bus.rtdl.v1',
};

/** IG's admissions: traffic on two partitions, each context topic on one. */
export const ADMITTED: AdmittedPartition[] = [
  {
    topic: T.traffic,
    partition: 0,
    events: 3,
    max_offset: '4960000000000000000000000000000000000000000000000099',
  },
  { topic: T.traffic, partition: 1, events: 2, max_offset: '120' },
  { topic: T.events, partition: 0, events: 4, max_offset: '300' },
  { topic: T.entities, partition: 0, events: 4, max_offset: '310' },
  { topic: T.anchor, partition: 0, events: 4, max_offset: '320' },
];

/** A projector that reached every admitted offset on `topics` and accounted for every event there. */
export function caughtUp(topics: readonly string[], admitted = ADMITTED): ProjectorProgress {
  const mine = admitted.filter((a) => topics.includes(a.topic));
  const accounted: Record<string, number> = {};
  for (const a of mine) accounted[a.topic] = (accounted[a.topic] ?? 0) + a.events;
  return {
    checkpoints: mine.map((a) => ({ topic: a.topic, partition: a.partition, next_offset: a.max_offset })),
    accounted,
  };
}

export const ALL_TOPICS = Object.values(T);

export function fakePorts(
  overrides: Partial<Record<Projector, ProjectorProgress>> = {},
  admitted = ADMITTED,
  now = NOW,
) {
  const asked: [Projector, string][] = [];
  const ports: CaughtUpPorts = {
    admitted: async (platformRunId) => (platformRunId === RUN ? admitted : []),
    async progress(projector, platformRunId) {
      asked.push([projector, platformRunId]);
      return overrides[projector] ?? caughtUp(ALL_TOPICS, admitted);
    },
    now: () => now,
  };
  return { ports, asked };
}
