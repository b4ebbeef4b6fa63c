import path from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type pg from 'pg';
import { expect } from 'vitest';
import { openStreamViewReader } from '../../lib/adapters/duckdb/stream-view-reader.ts';
import { postgresRunRegistry } from '../../lib/adapters/run-registry.ts';
import { s3ObjectStore } from '../../lib/adapters/s3-object-store.ts';
import { parseS3Uri } from '../../lib/adapters/world-streamer-stores.ts';
import { canonicalJson } from '../../lib/contracts/canonical-json.ts';
import { readyMessageId, sha256Hex } from '../../lib/contracts/identity.ts';
import type { RunStreamSettings } from '../../lib/contracts/platform-run.ts';
import { pythonIsoformat } from '../../lib/contracts/python-format.ts';
import {
  controlRecordText,
  type ReadySignal,
  type RunFactsView,
  readyControlRecord,
} from '../../lib/contracts/ready.ts';
import { ENGINE_CATALOGUE } from '../../lib/oracle-store/interface-pack.ts';
import type { MappingStatus } from '../../local/event-source-mapping/poller.ts';
import type { StackState } from '../../local/stack.ts';
import { runOraclePipeline } from '../../tools/oracle-pipeline-runner.ts';
import { generateWorld, type WorldSummary } from '../../tools/world/generate.ts';

/**
 * The World Streamer's side of a local cloud in tests: a generated world through the oracle pipeline, a pinned
 * platform run, the run facts view and READY that SR would write (control-ingress.md §3.6), put on sr-control-bus.
 */

export const PLATFORM_BUCKET = 'fraud-platform';
export const CONTROL_STREAM = 'sr-control-bus';

/** The parity fraud outputs WSP streams, context then traffic (§4.2 step 5), and the stream IG routes each to. */
export const OUTPUT_STREAMS = {
  arrival_events_5B: 'fp.bus.context.arrival_events.v1',
  s1_arrival_entities_6B: 'fp.bus.context.arrival_entities.v1',
  s3_flow_anchor_with_fraud_6B: 'fp.bus.context.flow_anchor.fraud.v1',
  s3_event_stream_with_fraud_6B: 'fp.bus.traffic.fraud.v1',
} as const;
export const WSP_OUTPUTS = Object.keys(OUTPUT_STREAMS) as Array<keyof typeof OUTPUT_STREAMS>;
export const BUS_STREAMS = Object.values(OUTPUT_STREAMS);

export interface OracleWorld {
  world: WorldSummary;
  engineRunRoot: string;
  oraclePackId: string;
}

/** A world generated into `dir`, synced, sealed and sorted by the oracle-pipeline state machine. */
export async function oracleWorld(
  sfn: SFNClient,
  state: StackState,
  dir: string,
  options: { events: number; seed: bigint },
): Promise<OracleWorld> {
  const world = await generateWorld({ out: dir, events: options.events, seed: options.seed });
  const machine = state.stateMachines.find((m) => m.name.endsWith('-oracle-pipeline'));
  const oracle = await runOraclePipeline(
    sfn,
    machine?.arn ?? 'missing',
    { world_source: `file://${dir}`, scenario_id: world.scenarioId },
    () => undefined,
  );
  expect(oracle.error ?? oracle.status).toBe('SUCCEEDED');
  return {
    world,
    engineRunRoot: oracle.summary?.engine_run_root ?? 'missing',
    oraclePackId: oracle.summary?.oracle_pack_id ?? 'missing',
  };
}

/** Pins a platform run (P1) with its own stream settings, and makes it the active one by default. */
export async function pinRun(
  pool: pg.Pool,
  platformRunId: string,
  stream: RunStreamSettings = {},
  active = true,
): Promise<void> {
  const registry = postgresRunRegistry(pool);
  await registry.createRun({
    platform_run_id: platformRunId,
    pinned_at_utc: new Date().toISOString(),
    pinned_by: 'world-streamer-test',
    stream,
  });
  if (active) await registry.setActiveRun(platformRunId);
}

export interface ReadyFixture {
  platformRunId: string;
  scenarioRunId: string;
  oracle: OracleWorld;
  /** Tells the READYs of one scenario run apart (their message_id). */
  bundleHash: string;
  /** The facts' scenario run, when it should differ from the READY's. */
  factsScenarioRunId?: string;
  /** The engine run root the READY and facts name (default the oracle world's). */
  engineRunRoot?: string;
}

/** A run facts view and the READY naming it, as SR writes them (§3.6). */
export function readyFor(f: ReadyFixture): { facts: RunFactsView; ready: ReadySignal } {
  const { platformRunId: prid, oracle } = f;
  const hex = (label: string) => sha256Hex(`world-streamer-test|${label}|${prid}`);
  const factsRun = f.factsScenarioRunId ?? f.scenarioRunId;
  const root = f.engineRunRoot ?? oracle.engineRunRoot;
  const provenance = { service_release_id: 'dev-local', environment: 'local_parity' };
  const factsRef = `${prid}/sr/run_facts_view/${factsRun}-${f.bundleHash.slice(0, 8)}.json`;
  const facts: RunFactsView = {
    run_id: factsRun,
    platform_run_id: prid,
    scenario_run_id: factsRun,
    pins: {
      manifest_fingerprint: oracle.world.manifestFingerprint,
      parameter_hash: oracle.world.parameterHash,
      seed: oracle.world.seed,
      scenario_id: oracle.world.scenarioId,
      run_id: factsRun,
      platform_run_id: prid,
      scenario_run_id: factsRun,
    },
    locators: [],
    output_roles: Object.fromEntries(
      WSP_OUTPUTS.map((id) => [id, id.includes('event_stream') ? 'business_traffic' : 'non_traffic']),
    ),
    intended_outputs: [...WSP_OUTPUTS],
    gate_receipts: [],
    policy_rev: { policy_id: 'sr_policy', revision: 'v0-local', content_digest: hex('policy') },
    bundle_hash: f.bundleHash,
    run_config_digest: hex('policy'),
    service_release_id: 'dev-local',
    environment: 'local_parity',
    provenance,
    plan_ref: `${prid}/sr/run_plan/${factsRun}.json`,
    record_ref: `${prid}/sr/run_record/${factsRun}.jsonl`,
    status_ref: `${prid}/sr/run_status/${factsRun}.json`,
    oracle_pack_ref: {
      engine_run_root: root,
      scenario_id: oracle.world.scenarioId,
      oracle_pack_id: oracle.oraclePackId,
    },
  };
  const ready: ReadySignal = {
    run_id: f.scenarioRunId,
    platform_run_id: prid,
    scenario_run_id: f.scenarioRunId,
    facts_view_ref: factsRef,
    bundle_hash: f.bundleHash,
    message_id: readyMessageId(prid, f.scenarioRunId, f.bundleHash),
    run_config_digest: hex('policy'),
    manifest_fingerprint: oracle.world.manifestFingerprint,
    parameter_hash: oracle.world.parameterHash,
    scenario_id: oracle.world.scenarioId,
    emitted_at_utc: pythonIsoformat(new Date()),
    oracle_pack_ref: { engine_run_root: root, scenario_id: oracle.world.scenarioId },
  };
  return { facts, ready };
}

/** Puts raw bytes on sr-control-bus; returns the sequence number. */
export async function putControl(
  kinesis: KinesisClient,
  data: string,
  partitionKey: string,
): Promise<string> {
  const out = await kinesis.send(
    new PutRecordCommand({ StreamName: CONTROL_STREAM, PartitionKey: partitionKey, Data: Buffer.from(data) }),
  );
  return out.SequenceNumber ?? '';
}

/** Writes the facts view, then puts the READY's control-bus record; returns the record text (to replay it). */
export async function publishReady(
  s3: S3Client,
  kinesis: KinesisClient,
  fixture: { facts: RunFactsView; ready: ReadySignal },
): Promise<string> {
  await s3.send(
    new PutObjectCommand({
      Bucket: PLATFORM_BUCKET,
      Key: fixture.ready.facts_view_ref,
      Body: `${canonicalJson(fixture.facts)}\n`,
    }),
  );
  const data = controlRecordText(readyControlRecord(fixture.ready, pythonIsoformat(new Date())));
  await putControl(kinesis, data, fixture.ready.run_id);
  return data;
}

/** The ARN of the stream-run execution `name` (the READY consumer names it by the message_id). */
export function streamExecutionArn(state: StackState, name: string): string {
  const machine = state.stateMachines.find((m) => m.name.endsWith('-stream-run'));
  return `${(machine?.arn ?? 'missing').replace(':stateMachine:', ':execution:')}:${name}`;
}

/** Records the READY consumer's event-source mapping has finished, over all shards (the ESM poller's status). */
export async function readyRecordsConsumed(state: StackState): Promise<number> {
  const consumer = `${state.service}-${state.stage}-world-streamer-ready-consumer`;
  const res = await fetch(`${state.endpoints.esm}/status`);
  const body = (await res.json()) as { mappings: MappingStatus[] };
  const mapping = body.mappings.find((x) => x.functionName === consumer);
  if (!mapping) throw new Error(`no mapping for ${consumer}`);
  return mapping.shards.reduce((n, s) => n + s.recordsCompleted, 0);
}

/** The worlds of the World Streamer acceptance files: one world, so the oracle pipeline syncs and sorts it once. */
export const ACCEPTANCE_WORLD = { events: 500, seed: 77_077n } as const;

/**
 * Stream-view rows read in the test process with the Lambda's own reader (DuckDB over the parts in S3), to know
 * what each envelope must carry.
 */
export async function openViews(s3: S3Client, dir: string) {
  return openStreamViewReader({
    open(root) {
      const uri = parseS3Uri(root);
      if (!uri) throw new Error(`not an s3:// root: ${root}`);
      return s3ObjectStore(s3, uri.bucket, uri.key);
    },
    duckdb: { memoryLimit: '256MB', threads: 1, tempDirectory: path.join(dir, 'duckdb') },
    workspaceDir: path.join(dir, 'views'),
  });
}

/**
 * §4.4 `event_id = sha256("|".join([output_id] + [str(payload[k]) for k in primary_key] + [mf, ph, seed,
 * scenario_id]))`, written out here (primary keys are ints and strings, whose str() is their decimal / text).
 */
export function expectedEventId(outputId: string, row: Record<string, unknown>, world: WorldSummary): string {
  const primaryKey = ENGINE_CATALOGUE.byId.get(outputId)?.primary_key ?? [];
  if (primaryKey.length === 0) throw new Error(`${outputId}: no primary key in the catalogue`);
  const parts = [
    outputId,
    ...primaryKey.map((k) => String(row[k])),
    world.manifestFingerprint,
    world.parameterHash,
    String(world.seed),
    world.scenarioId,
  ];
  return sha256Hex(parts.join('|'));
}

/** The event ids of rows [from, to) of each output's stream view. */
export async function viewEventIds(
  views: Awaited<ReturnType<typeof openViews>>,
  oracle: OracleWorld,
  from: number,
  to: number,
): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const outputId of WSP_OUTPUTS) {
    const rows = await views.read({
      engineRunRoot: oracle.engineRunRoot,
      outputId,
      fromRow: from,
      limit: to - from,
    });
    out[outputId] = rows.map((r) => expectedEventId(outputId, r.row, oracle.world));
  }
  return out;
}
