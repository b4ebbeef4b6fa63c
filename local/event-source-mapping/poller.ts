import { type KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CheckpointStore } from './checkpoint-store.ts';
import { type Clock, systemClock } from './clock.ts';
import { failureSender } from './failure-sender.ts';
import { invokeBatch } from './invoker.ts';
import type { MappingControl, MappingPatch, MappingView } from './mapping-api.ts';
import type { MappingConfig } from './mapping-config.ts';
import { ShardConsumer, type ShardStatus } from './shard-consumer.ts';

/**
 * Kinesis event-source mappings for the local cloud, from serverless.yml's `stream` events, with AWS's
 * semantics (aws-semantics.md §1.1): every shard of every enabled mapping polled concurrently.
 * UpdateEventSourceMapping (mapping-api.ts) changes a mapping while it runs: its batch settings are read for each
 * batch, so a change applies from the next one; disabling stops its shard consumers (each finishes its in-flight
 * batch and checkpoints it), enabling starts new ones, which resume after the checkpoint.
 */

export interface MappingStatus {
  uuid: string;
  functionName: string;
  streamName: string;
  enabled: boolean;
  settings: Omit<MappingConfig, 'uuid' | 'functionName' | 'streamName' | 'enabled'>;
  shards: ShardStatus[];
}

export interface PollerDeps {
  kinesis: KinesisClient;
  lambda: LambdaClient;
  s3: S3Client;
  checkpoints: CheckpointStore;
  region: string;
  accountId: string;
  failureDir: string;
  /** Default: the machine's clock. */
  clock?: Clock;
  idleMinMs?: number;
  idleMaxMs?: number;
  log?: (line: Record<string, unknown>) => void;
}

/** A mapping's consumers and where its enable/disable stands. */
interface MappingRuntime {
  state: MappingView['state'];
  lastModifiedMs: number;
  consumers: ShardConsumer[];
  runs: Promise<void>[];
  /** Enable and disable steps, one after the other. */
  transitions: Promise<void>;
  /** How many switches were asked for: only the last one's step sets the state. */
  switches: number;
}

export class EventSourceMappingPoller implements MappingControl {
  private readonly runtime = new Map<string, MappingRuntime>();
  private stopping = false;

  constructor(
    private readonly mappings: MappingConfig[],
    private readonly deps: PollerDeps,
  ) {}

  private get log(): (line: Record<string, unknown>) => void {
    return this.deps.log ?? (() => undefined);
  }

  async start(): Promise<void> {
    const clock = this.deps.clock ?? systemClock();
    for (const m of this.mappings) {
      const rt: MappingRuntime = {
        state: m.enabled ? 'Enabled' : 'Disabled',
        lastModifiedMs: clock.now(),
        consumers: [],
        runs: [],
        transitions: Promise.resolve(),
        switches: 0,
      };
      this.runtime.set(m.uuid, rt);
      if (m.unsupported.length > 0)
        this.log({
          msg: 'mapping option not supported locally, ignored',
          mapping: m.uuid,
          options: m.unsupported,
        });
      if (m.enabled) await this.startConsumers(m, rt);
    }
  }

  /** One consumer per shard, reading from the mapping's checkpoint (or its starting position). */
  private async startConsumers(m: MappingConfig, rt: MappingRuntime): Promise<void> {
    const sendFailure = failureSender(this.deps.s3, this.deps.failureDir);
    const clock = this.deps.clock ?? systemClock();
    const shards = await this.deps.kinesis.send(new ListShardsCommand({ StreamName: m.streamName }));
    if (this.stopping) return;
    const consumers: ShardConsumer[] = [];
    const runs: Promise<void>[] = [];
    for (const shard of shards.Shards ?? []) {
      if (!shard.ShardId) continue;
      const consumer = new ShardConsumer(m, shard.ShardId, {
        kinesis: this.deps.kinesis,
        checkpoints: this.deps.checkpoints,
        invoke: (mapping, records) => invokeBatch(this.deps.lambda, mapping, records),
        sendFailure,
        region: this.deps.region,
        accountId: this.deps.accountId,
        clock,
        idleMinMs: this.deps.idleMinMs ?? 20,
        idleMaxMs: Math.min(this.deps.idleMaxMs ?? 1000, 1000),
        log: this.log,
      });
      consumers.push(consumer);
      runs.push(
        consumer.run().catch((error: unknown) => {
          consumer.status.lastError = `stopped on error: ${(error as Error).message}`;
          this.log({
            msg: 'shard consumer stopped on error',
            mapping: m.uuid,
            shardId: shard.ShardId,
            error: (error as Error).message,
          });
        }),
      );
    }
    rt.consumers = consumers;
    rt.runs = runs;
  }

  /** Stops the mapping's consumers and waits for their in-flight batches and checkpoints. */
  private async stopConsumers(rt: MappingRuntime): Promise<void> {
    for (const c of rt.consumers) c.stop();
    await Promise.allSettled(rt.runs);
  }

  views(): MappingView[] {
    return this.mappings.flatMap((config) => {
      const rt = this.runtime.get(config.uuid);
      return rt ? [{ config, state: rt.state, lastModifiedMs: rt.lastModifiedMs }] : [];
    });
  }

  update(uuid: string, patch: MappingPatch): MappingView | undefined {
    const m = this.mappings.find((x) => x.uuid === uuid);
    const rt = this.runtime.get(uuid);
    if (!m || !rt) return undefined;
    // Read by the lane batchers and the batch runner for every batch: the next batch has them.
    if (patch.batchSize !== undefined) m.batchSize = patch.batchSize;
    if (patch.batchWindowMs !== undefined) m.batchWindowMs = patch.batchWindowMs;
    if (patch.maximumRetryAttempts !== undefined) m.maximumRetryAttempts = patch.maximumRetryAttempts;
    if (patch.maximumRecordAgeSeconds !== undefined)
      m.maximumRecordAgeSeconds = patch.maximumRecordAgeSeconds;
    if (patch.bisectBatchOnFunctionError !== undefined)
      m.bisectBatchOnFunctionError = patch.bisectBatchOnFunctionError;
    rt.lastModifiedMs = (this.deps.clock ?? systemClock()).now();
    if (patch.enabled !== undefined && patch.enabled !== m.enabled) this.switchTo(m, rt, patch.enabled);
    this.log({ msg: 'mapping updated', mapping: uuid, patch });
    return { config: m, state: rt.state, lastModifiedMs: rt.lastModifiedMs };
  }

  /** Enabling/Disabling now, Enabled/Disabled once the consumers have started or stopped. */
  private switchTo(m: MappingConfig, rt: MappingRuntime, enabled: boolean): void {
    m.enabled = enabled;
    rt.state = enabled ? 'Enabling' : 'Disabling';
    const mine = ++rt.switches;
    rt.transitions = rt.transitions.then(async () => {
      let failed = false;
      try {
        if (enabled) await this.startConsumers(m, rt);
        else await this.stopConsumers(rt);
      } catch (error) {
        failed = true;
        this.log({ msg: 'mapping could not be enabled', mapping: m.uuid, error: (error as Error).message });
      }
      // A later switch is queued behind this one: the state is its to set.
      if (rt.switches !== mine) return;
      // The stream could not be listed: the mapping stays disabled, as AWS leaves one it cannot start.
      if (failed) m.enabled = false;
      rt.state = m.enabled ? 'Enabled' : 'Disabled';
    });
  }

  status(): MappingStatus[] {
    return this.mappings.map(({ uuid, functionName, streamName, enabled, ...settings }) => ({
      uuid,
      functionName,
      streamName,
      enabled,
      settings,
      shards: (this.runtime.get(uuid)?.consumers ?? []).map((c) => ({
        ...c.status,
        inFlight: [...c.status.inFlight],
      })),
    }));
  }

  /** Stops reading, lets each in-flight batch finish (bounded by the function's timeout) and checkpoints. */
  async stop(): Promise<void> {
    this.stopping = true;
    const all = [...this.runtime.values()];
    await Promise.allSettled(all.map((rt) => rt.transitions));
    await Promise.allSettled(all.map((rt) => this.stopConsumers(rt)));
  }
}
