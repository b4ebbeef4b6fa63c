import { TOPICS } from './projector-fuzz.ts';

/**
 * The functions with a Kinesis trigger that the stream fuzz covers (their handler paths as functions/<plane>/
 * functions.yml names them): the World Streamer's ready consumer, the four RTDL projectors and the decision fabric,
 * with the topics their mappings consume.
 */

export const READY_CONSUMER_PATH = 'functions/world-streamer/ready-consumer.handler';

export const PROJECTOR_STREAMS = [
  {
    name: 'archive-writer',
    path: 'functions/archive-writer/archive-writer.handler',
    topics: Object.values(TOPICS),
  },
  {
    name: 'identity-graph',
    path: 'functions/identity-graph/identity-graph.handler',
    topics: [TOPICS.traffic, TOPICS.arrivalEvents, TOPICS.arrivalEntities, TOPICS.flowAnchor],
  },
  {
    name: 'context-store',
    path: 'functions/context-store/context-store.handler',
    topics: [TOPICS.arrivalEvents, TOPICS.arrivalEntities, TOPICS.flowAnchor],
  },
  {
    name: 'online-features',
    path: 'functions/online-features/online-features.handler',
    topics: [TOPICS.traffic, TOPICS.flowAnchor],
  },
] as const;

/** The decision fabric: the traffic topic's mapping, on the bus edge (decision-fabric-fuzz.test.ts). */
export const DECISION_FABRIC_STREAM = {
  name: 'decision-fabric',
  path: 'functions/decision-fabric/decision-fabric.handler',
  topics: [TOPICS.traffic],
} as const;
