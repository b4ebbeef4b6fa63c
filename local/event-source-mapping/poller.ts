import { type KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CheckpointStore } from './checkpoint-store.ts';
import { type Clock, systemClock } from './clock.ts';
import { failureSender } from './failure-sender.ts';
import { invokeBatch } from './invoker.ts';
import type { MappingConfig } from './mapping-config.ts';
import { ShardConsumer, type ShardStatus } from './shard-consumer.ts';

/**
 * Kinesis event-source mappings for the local cloud, from serverless.yml's `stream` events, with AWS's
 * semantics (aws-semantics.md §1.1): every shard of every enabled mapping polled concurrently.
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

export class EventSourceMappingPoller {
  private readonly consumers = new Map<string, ShardConsumer[]>();
  private readonly runs: Promise<void>[] = [];

  constructor(
    private readonly mappings: MappingConfig[],
    private readonly deps: PollerDeps,
  ) {}

  async start(): Promise<void> {
    const log = this.deps.log ?? (() => undefined);
    const sendFailure = failureSender(this.deps.s3, this.deps.failureDir);
    const clock = this.deps.clock ?? systemClock();
    for (const m of this.mappings) {
      const consumers: ShardConsumer[] = [];
      this.consumers.set(m.uuid, consumers);
      if (!m.enabled) continue;
      if (m.unsupported.length > 0)
        log({
          msg: 'mapping option not supported locally, ignored',
          mapping: m.uuid,
          options: m.unsupported,
        });
      const shards = await this.deps.kinesis.send(new ListShardsCommand({ StreamName: m.streamName }));
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
          log,
        });
        consumers.push(consumer);
        this.runs.push(
          consumer.run().catch((error: unknown) => {
            consumer.status.lastError = `stopped on error: ${(error as Error).message}`;
            log({
              msg: 'shard consumer stopped on error',
              mapping: m.uuid,
              shardId: shard.ShardId,
              error: (error as Error).message,
            });
          }),
        );
      }
    }
  }

  status(): MappingStatus[] {
    return this.mappings.map(({ uuid, functionName, streamName, enabled, ...settings }) => ({
      uuid,
      functionName,
      streamName,
      enabled,
      settings,
      shards: (this.consumers.get(uuid) ?? []).map((c) => ({
        ...c.status,
        inFlight: [...c.status.inFlight],
      })),
    }));
  }

  /** Stops reading, lets each in-flight batch finish (bounded by the function's timeout) and checkpoints. */
  async stop(): Promise<void> {
    for (const consumers of this.consumers.values()) for (const c of consumers) c.stop();
    await Promise.allSettled(this.runs);
  }
}
