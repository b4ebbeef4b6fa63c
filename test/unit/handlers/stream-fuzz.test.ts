import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ACTION_LAYER_STREAM,
  CASE_MANAGEMENT_STREAM,
  CASE_TRIGGER_STREAM,
  DECISION_FABRIC_STREAM,
  DECISION_LOG_STREAM,
  PROJECTOR_STREAMS,
  READY_CONSUMER_PATH,
} from './fuzzed-stream-handlers.ts';
import { TOPICS } from './projector-fuzz.ts';

/**
 * Fuzz: no record crashes a stream handler. Every function with a Kinesis trigger runs its real edge and core on
 * in-memory ports and gets random events: the World Streamer's ready consumer in ready-consumer-fuzz.test.ts (the
 * stream edge), the RTDL projectors in projector-fuzz.test.ts, the decision fabric in decision-fabric-fuzz.test.ts, the
 * action layer in action-layer-fuzz.test.ts and the decision log in decision-log-fuzz.test.ts (the bus edge). This
 * file checks that they cover every such function of functions/<plane>/functions.yml, and every topic each bus
 * consumer's mappings deliver.
 */

describe('stream handlers fuzz: no record crashes a handler or vanishes', () => {
  it('finds every function with a Kinesis trigger covered here', () => {
    const streamed = readdirSync('functions').flatMap((plane) => {
      const defs = parse(readFileSync(`functions/${plane}/functions.yml`, 'utf8'), { logLevel: 'silent' });
      return Object.values(defs as Record<string, { handler: string; events?: { stream?: unknown }[] }>)
        .filter((fn) => (fn.events ?? []).some((e) => e.stream))
        .map((fn) => fn.handler);
    });
    expect(streamed.sort()).toEqual(
      [
        READY_CONSUMER_PATH,
        ...PROJECTOR_STREAMS.map((p) => p.path),
        DECISION_FABRIC_STREAM.path,
        ACTION_LAYER_STREAM.path,
        DECISION_LOG_STREAM.path,
        CASE_TRIGGER_STREAM.path,
        CASE_MANAGEMENT_STREAM.path,
      ].sort(),
    );
  });

  it('covers every topic each bus consumer’s mappings deliver', () => {
    const topicOfStream: Record<string, string> = {
      TrafficFraudStream: TOPICS.traffic,
      TrafficBaselineStream: TOPICS.trafficBaseline,
      ContextArrivalEventsStream: TOPICS.arrivalEvents,
      ContextArrivalEntitiesStream: TOPICS.arrivalEntities,
      ContextFlowAnchorFraudStream: TOPICS.flowAnchor,
      ContextFlowAnchorBaselineStream: TOPICS.flowAnchorBaseline,
      RtdlStream: TOPICS.rtdl,
      CaseStream: TOPICS.case,
      AuditStream: TOPICS.audit,
    };
    for (const projector of [
      ...PROJECTOR_STREAMS,
      DECISION_FABRIC_STREAM,
      ACTION_LAYER_STREAM,
      DECISION_LOG_STREAM,
      CASE_TRIGGER_STREAM,
      CASE_MANAGEMENT_STREAM,
    ]) {
      const defs = parse(readFileSync(`functions/${projector.name}/functions.yml`, 'utf8'), {
        logLevel: 'silent',
      });
      const fn = defs[projector.name] as {
        events: { stream?: { arn: { 'Fn::GetAtt': [string, string] } } }[];
      };
      const mapped = fn.events.flatMap((e) =>
        e.stream ? [topicOfStream[e.stream.arn['Fn::GetAtt'][0]]] : [],
      );
      expect(mapped.sort(), projector.name).toEqual([...projector.topics].sort());
    }
  });
});
