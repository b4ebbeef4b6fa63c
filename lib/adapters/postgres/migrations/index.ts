import { sql as runLifecycle } from './0001-run-lifecycle.ts';
import { sql as ingestionGate } from './0002-ingestion-gate.ts';
import { sql as scenarioRunner } from './0003-scenario-runner.ts';
import { sql as worldStreamer } from './0004-world-streamer.ts';
import { sql as runStreamSettings } from './0005-run-stream-settings.ts';
import { sql as ingestionGateLeanWrites } from './0006-ingestion-gate-lean-writes.ts';
import { sql as archiveWriter } from './0007-archive-writer.ts';
import { sql as contextStore } from './0008-context-store.ts';
import { sql as identityGraph } from './0009-identity-graph.ts';
import { sql as onlineFeatures } from './0010-online-features.ts';
import { sql as onlineFeaturesEntities } from './0011-online-features-entities.ts';
import { sql as ingestionGateFlowId } from './0012-ingestion-gate-flow-id.ts';
import { sql as contextStoreCounters } from './0013-context-store-counters.ts';
import { sql as degradeLadder } from './0014-degrade-ladder.ts';
import { sql as onlineFeaturesFlowEntities } from './0015-online-features-flow-entities.ts';
import { sql as decisionFabric } from './0016-decision-fabric.ts';
import { sql as actionLayer } from './0017-action-layer.ts';
import { sql as decisionLog } from './0018-decision-log.ts';
import { sql as labelStore } from './0019-label-store.ts';
import { sql as caseTrigger } from './0020-case-trigger.ts';
import { sql as caseManagement } from './0021-case-management.ts';
import { sql as runStatus } from './0022-run-status.ts';

export interface Migration {
  /** Ordered, never renamed once released. */
  id: string;
  sql: string;
}

/** Every migration of the platform schema, in order. Bundled into Lambdas so P0 can check the schema. */
export const MIGRATIONS: readonly Migration[] = [
  { id: '0001-run-lifecycle', sql: runLifecycle },
  { id: '0002-ingestion-gate', sql: ingestionGate },
  { id: '0003-scenario-runner', sql: scenarioRunner },
  { id: '0004-world-streamer', sql: worldStreamer },
  { id: '0005-run-stream-settings', sql: runStreamSettings },
  { id: '0006-ingestion-gate-lean-writes', sql: ingestionGateLeanWrites },
  { id: '0007-archive-writer', sql: archiveWriter },
  { id: '0008-context-store', sql: contextStore },
  { id: '0009-identity-graph', sql: identityGraph },
  { id: '0010-online-features', sql: onlineFeatures },
  { id: '0011-online-features-entities', sql: onlineFeaturesEntities },
  { id: '0012-ingestion-gate-flow-id', sql: ingestionGateFlowId },
  { id: '0013-context-store-counters', sql: contextStoreCounters },
  { id: '0014-degrade-ladder', sql: degradeLadder },
  { id: '0015-online-features-flow-entities', sql: onlineFeaturesFlowEntities },
  { id: '0016-decision-fabric', sql: decisionFabric },
  { id: '0017-action-layer', sql: actionLayer },
  { id: '0018-decision-log', sql: decisionLog },
  { id: '0019-label-store', sql: labelStore },
  { id: '0020-case-trigger', sql: caseTrigger },
  { id: '0021-case-management', sql: caseManagement },
  { id: '0022-run-status', sql: runStatus },
];
