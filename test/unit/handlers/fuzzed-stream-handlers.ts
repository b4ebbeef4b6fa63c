import { TOPICS } from './projector-fuzz.ts';

/**
 * The functions with a Kinesis trigger that the stream fuzz covers (their handler paths as functions/<plane>/
 * functions.yml names them): the World Streamer's ready consumer, the four RTDL projectors, the decision fabric, the
 * action layer and the decision log, with the topics their mappings consume.
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

/** The action layer: the rtdl topic's mapping, on the bus edge (action-layer-fuzz.test.ts). */
export const ACTION_LAYER_STREAM = {
  name: 'action-layer',
  path: 'functions/action-layer/action-layer.handler',
  topics: [TOPICS.rtdl],
} as const;

/** The decision log: the rtdl topic's mapping, on the bus edge (decision-log-fuzz.test.ts). */
export const DECISION_LOG_STREAM = {
  name: 'decision-log',
  path: 'functions/decision-log/decision-log.handler',
  topics: [TOPICS.rtdl],
} as const;

/** The case trigger: the rtdl topic's mapping, on the bus edge (case-trigger-fuzz.test.ts). */
export const CASE_TRIGGER_STREAM = {
  name: 'case-trigger',
  path: 'functions/case-trigger/case-trigger.handler',
  topics: [TOPICS.rtdl],
} as const;

/** Case management: the case topic's mapping, on the bus edge (case-management-fuzz.test.ts). */
export const CASE_MANAGEMENT_STREAM = {
  name: 'case-management',
  path: 'functions/case-management/case-management.handler',
  topics: [TOPICS.case],
} as const;
