import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { StreamEventConfig } from '../service-definition.ts';
import { toEventRecord } from './kinesis-event.ts';

/**
 * Kinesis event-source mappings for the local cloud: one poller per (mapping, shard), one batch in
 * flight per shard, the function invoked through the local Lambda endpoint with AWS's event shape.
 * This first version delivers in order and retries a failed batch up to maximumRetryAttempts before
 * moving on; checkpoints, bisect, partial responses and destinations are the ESM issue's work.
 */

export interface MappingSpec {
  uuid: string;
  functionName: string;
  streamName: string;
  config: StreamEventConfig;
}

export interface ShardStatus {
  shardId: string;
  lastSequenceNumber: string | undefined;
  delivered: number;
  failedBatches: number;
  retries: number;
  inFlight: boolean;
  millisBehindLatest: number | undefined;
  lastError: string | undefined;
}

export interface MappingStatus {
  uuid: string;
  functionName: string;
  streamName: string;
  enabled: boolean;
  shards: ShardStatus[];
}

export interface PollerDeps {
  kinesis: KinesisClient;
  lambda: LambdaClient;
  region: string;
  accountId: string;
  idleDelayMs?: number;
}

export class EventSourceMappingPoller {
  private readonly statuses = new Map<string, MappingStatus>();
  private stopped = false;
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly mappings: MappingSpec[],
    private readonly deps: PollerDeps,
  ) {}

  async start(): Promise<void> {
    for (const m of this.mappings) {
      const enabled = m.config.enabled !== false;
      const status: MappingStatus = {
        uuid: m.uuid,
        functionName: m.functionName,
        streamName: m.streamName,
        enabled,
        shards: [],
      };
      this.statuses.set(m.uuid, status);
      if (!enabled) continue;
      const shards = await this.deps.kinesis.send(new ListShardsCommand({ StreamName: m.streamName }));
      for (const shard of shards.Shards ?? []) {
        if (!shard.ShardId) continue;
        const s: ShardStatus = {
          shardId: shard.ShardId,
          lastSequenceNumber: undefined,
          delivered: 0,
          failedBatches: 0,
          retries: 0,
          inFlight: false,
          millisBehindLatest: undefined,
          lastError: undefined,
        };
        status.shards.push(s);
        this.loops.push(this.pollShard(m, s));
      }
    }
  }

  status(): MappingStatus[] {
    return [...this.statuses.values()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled(this.loops);
  }

  private async iterator(m: MappingSpec, shardId: string): Promise<string | undefined> {
    const type = (m.config.startingPosition ?? 'TRIM_HORIZON') as ShardIteratorType;
    const out = await this.deps.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: m.streamName,
        ShardId: shardId,
        ShardIteratorType: type,
        Timestamp:
          type === 'AT_TIMESTAMP' ? new Date((m.config.startingPositionTimestamp ?? 0) * 1000) : undefined,
      }),
    );
    return out.ShardIterator;
  }

  private async pollShard(m: MappingSpec, s: ShardStatus): Promise<void> {
    const streamArn = `arn:aws:kinesis:${this.deps.region}:${this.deps.accountId}:stream/${m.streamName}`;
    const ctx = {
      shardId: s.shardId,
      streamArn,
      region: this.deps.region,
      invokeIdentityArn: `arn:aws:iam::${this.deps.accountId}:role/${m.functionName}-role`,
    };
    const maxRetries = m.config.maximumRetryAttempts ?? -1;
    let iterator = await this.iterator(m, s.shardId);
    while (!this.stopped && iterator) {
      const out = await this.deps.kinesis
        .send(new GetRecordsCommand({ ShardIterator: iterator, Limit: m.config.batchSize ?? 100 }))
        .catch((error: unknown) => {
          s.lastError = (error as Error).message;
          return undefined;
        });
      if (!out) {
        await sleep(500);
        continue;
      }
      iterator = out.NextShardIterator;
      s.millisBehindLatest = out.MillisBehindLatest;
      const records = out.Records ?? [];
      if (records.length === 0) {
        await sleep(this.deps.idleDelayMs ?? 200);
        continue;
      }
      const event = { Records: records.map((r) => toEventRecord(r, ctx)) };
      s.inFlight = true;
      for (let attempt = 0; !this.stopped; attempt++) {
        const ok = await this.invoke(m.functionName, event, s);
        if (ok) {
          s.delivered += records.length;
          break;
        }
        if (maxRetries >= 0 && attempt >= maxRetries) {
          s.failedBatches++;
          break;
        }
        s.retries++;
        await sleep(Math.min(1000, 100 * 2 ** attempt));
      }
      s.inFlight = false;
      s.lastSequenceNumber = records.at(-1)?.SequenceNumber;
    }
  }

  private async invoke(functionName: string, event: unknown, s: ShardStatus): Promise<boolean> {
    try {
      const out = await this.deps.lambda.send(
        new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }),
      );
      if (out.FunctionError) {
        s.lastError = `${out.FunctionError}: ${Buffer.from(out.Payload ?? new Uint8Array())
          .toString('utf8')
          .slice(0, 300)}`;
        return false;
      }
      return true;
    } catch (error) {
      s.lastError = (error as Error).message;
      return false;
    }
  }
}
