import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import type { BatchOutcome } from './batch-outcome.ts';
import { runBatch } from './batch-runner.ts';
import type { CheckpointStore } from './checkpoint-store.ts';
import type { Clock } from './clock.ts';
import { type FailureRecord, failureRecord } from './failure-record.ts';
import { LaneBatcher } from './lane-batcher.ts';
import type { MappingConfig } from './mapping-config.ts';
import { ShardProgress } from './shard-progress.ts';
import { type StreamRecord, streamRecord } from './stream-record.ts';

/**
 * One shard of one mapping: a reader that polls the shard and lanes that each keep one batch in flight
 * (one lane, or parallelizationFactor lanes keyed by partition key). Progress is checkpointed in Postgres
 * after every batch; a restart resumes after the checkpoint.
 */

export interface ShardConsumerDeps {
  kinesis: KinesisClient;
  checkpoints: CheckpointStore;
  invoke(mapping: MappingConfig, records: StreamRecord[]): Promise<BatchOutcome>;
  sendFailure(mapping: MappingConfig, shardId: string, record: FailureRecord): Promise<string>;
  region: string;
  accountId: string;
  /** Record ages, batching windows, backoffs and polling pauses. */
  clock: Clock;
  idleMinMs: number;
  idleMaxMs: number;
  log(line: Record<string, unknown>): void;
}

export interface InFlightBatch {
  lane: number;
  size: number;
  firstSequenceNumber: string;
  lastSequenceNumber: string;
  since: string;
}

export interface ShardStatus {
  shardId: string;
  lanes: number;
  iteratorAgeMs: number | undefined;
  lastCheckpoint: string | undefined;
  buffered: number;
  inFlight: InFlightBatch[];
  invocations: number;
  recordsCompleted: number;
  retries: number;
  failureRecords: number;
  recordsSentToFailure: number;
  lastFailureRef: string | undefined;
  lastError: string | undefined;
}

export class ShardConsumer {
  private readonly lanes: LaneBatcher[];
  private progress: ShardProgress | undefined;
  private stopped = false;
  private checkpointChain: Promise<void> = Promise.resolve();
  readonly status: ShardStatus;

  constructor(
    private readonly mapping: MappingConfig,
    readonly shardId: string,
    private readonly deps: ShardConsumerDeps,
  ) {
    const n = Math.max(1, mapping.parallelizationFactor);
    this.lanes = Array.from({ length: n }, () => new LaneBatcher(mapping, deps.clock));
    this.status = {
      shardId,
      lanes: n,
      iteratorAgeMs: undefined,
      lastCheckpoint: undefined,
      buffered: 0,
      inFlight: [],
      invocations: 0,
      recordsCompleted: 0,
      retries: 0,
      failureRecords: 0,
      recordsSentToFailure: 0,
      lastFailureRef: undefined,
      lastError: undefined,
    };
  }

  async run(): Promise<void> {
    const stored = await this.deps.checkpoints.read(this.mapping.uuid, this.shardId);
    this.progress = new ShardProgress(this.lanes.length, stored?.checkpoint, stored?.parallelizationFactor);
    this.status.lastCheckpoint = stored?.checkpoint.sequenceNumber;
    const workers = this.lanes.map((lane, i) => this.laneLoop(lane, i));
    await this.readLoop(stored?.checkpoint.sequenceNumber, stored?.latestStartedAt);
    for (const lane of this.lanes) lane.wake();
    await Promise.all(workers);
    await this.checkpointChain;
  }

  stop(): void {
    this.stopped = true;
    for (const lane of this.lanes) lane.wake();
  }

  private async firstIterator(
    after: string | undefined,
    latestStartedAt: Date | undefined,
  ): Promise<string | undefined> {
    const base = { StreamName: this.mapping.streamName, ShardId: this.shardId };
    let input: GetShardIteratorCommandInput;
    if (after !== undefined)
      input = { ...base, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after };
    else if (this.mapping.startingPosition === 'AT_TIMESTAMP')
      input = {
        ...base,
        ShardIteratorType: 'AT_TIMESTAMP',
        Timestamp: new Date((this.mapping.startingPositionTimestamp ?? 0) * 1000),
      };
    else if (this.mapping.startingPosition === 'LATEST' && latestStartedAt)
      input = { ...base, ShardIteratorType: 'AT_TIMESTAMP', Timestamp: latestStartedAt };
    else if (this.mapping.startingPosition === 'LATEST') {
      // LATEST is where the mapping was created; remember it so a restart does not skip what arrived meanwhile.
      // (Kinesis's time, which records carry: not the poller's clock, which a test may set ahead.)
      await this.deps.checkpoints.markLatestStart(this.mapping.uuid, this.shardId, new Date());
      input = { ...base, ShardIteratorType: 'LATEST' };
    } else input = { ...base, ShardIteratorType: 'TRIM_HORIZON' };
    return (await this.deps.kinesis.send(new GetShardIteratorCommand(input))).ShardIterator;
  }

  private bufferedTotal(): number {
    return this.lanes.reduce((n, l) => n + l.size, 0);
  }

  private async readLoop(after: string | undefined, latestStartedAt: Date | undefined): Promise<void> {
    const progress = this.progress as ShardProgress;
    const ctx = {
      shardId: this.shardId,
      streamArn: this.mapping.streamArn,
      region: this.deps.region,
      invokeIdentityArn: `arn:aws:iam::${this.deps.accountId}:role/${this.mapping.functionName}-role`,
    };
    // Read for every poll: UpdateEventSourceMapping may change the batch size while the consumer runs.
    const maxBuffered = () => Math.max(2 * this.mapping.batchSize * this.lanes.length, 1000);
    let iterator = await this.retrying(() => this.firstIterator(after, latestStartedAt));
    let idle = this.deps.idleMinMs;
    while (!this.stopped && iterator) {
      if (this.bufferedTotal() >= maxBuffered()) {
        await this.deps.clock.sleep(5);
        continue;
      }
      let out: GetRecordsCommandOutput;
      try {
        out = await this.deps.kinesis.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(10_000, maxBuffered()) }),
        );
      } catch (error) {
        this.status.lastError = `GetRecords: ${(error as Error).name}: ${(error as Error).message}`;
        if ((error as Error).name === 'ExpiredIteratorException') {
          const last = progress.lastRead();
          iterator = await this.retrying(() => this.firstIterator(last, latestStartedAt));
        } else await this.deps.clock.sleep(this.deps.idleMaxMs);
        continue;
      }
      iterator = out.NextShardIterator;
      this.status.iteratorAgeMs = out.MillisBehindLatest;
      const records = out.Records ?? [];
      for (const raw of records) {
        const r = streamRecord(raw, ctx);
        if (progress.alreadyDone(r)) continue;
        (this.lanes[progress.track(r)] as LaneBatcher).push(r);
      }
      this.status.buffered = this.bufferedTotal();
      if (records.length === 0) {
        await this.deps.clock.sleep(idle);
        idle = Math.min(idle * 2, this.deps.idleMaxMs);
      } else idle = this.deps.idleMinMs;
    }
  }

  private async laneLoop(lane: LaneBatcher, index: number): Promise<void> {
    const progress = () => this.progress as ShardProgress;
    const { clock } = this.deps;
    for (;;) {
      const batch = await lane.next(() => this.stopped);
      if (!batch) return;
      const inFlight: InFlightBatch = {
        lane: index,
        size: batch.length,
        firstSequenceNumber: batch[0]?.sequenceNumber ?? '',
        lastSequenceNumber: batch.at(-1)?.sequenceNumber ?? '',
        since: new Date(clock.now()).toISOString(),
      };
      this.status.inFlight.push(inFlight);
      const result = await runBatch(batch, this.mapping, {
        invoke: async (records) => {
          this.status.invocations++;
          const outcome = await this.deps.invoke(this.mapping, records);
          lane.invocationCompleted(); // AWS: the next batching window begins now
          return outcome;
        },
        sendFailure: async (records, condition, invokeCount, lastError) => {
          const record = failureRecord(records, {
            mapping: this.mapping,
            shardId: this.shardId,
            condition,
            invokeCount,
            lastError,
            at: new Date(clock.now()),
          });
          const ref = await this.retrying(() => this.deps.sendFailure(this.mapping, this.shardId, record));
          this.status.failureRecords++;
          this.status.recordsSentToFailure += records.length;
          this.status.lastFailureRef = ref;
          this.deps.log({
            msg: 'batch sent to failure destination',
            mapping: this.mapping.uuid,
            shardId: this.shardId,
            condition,
            records: records.length,
            ref,
          });
        },
        completed: (records) => {
          progress().complete(records);
          this.status.recordsCompleted += records.length;
        },
        checkpoint: () => this.saveCheckpoint(),
        onRetry: (_records, reason) => {
          this.status.retries++;
          this.status.lastError = reason.slice(0, 500);
        },
        now: () => clock.now(),
        sleep: (ms) => clock.sleep(ms),
        stopping: () => this.stopped,
      });
      this.status.inFlight = this.status.inFlight.filter((b) => b !== inFlight);
      await this.saveCheckpoint();
      if (result === 'interrupted') return;
    }
  }

  /** Checkpoint writes are serialised per shard, so a slower write never overwrites a newer one. */
  private saveCheckpoint(): Promise<void> {
    this.checkpointChain = this.checkpointChain.then(async () => {
      const c = (this.progress as ShardProgress).checkpoint();
      await this.retrying(() =>
        this.deps.checkpoints.write(this.mapping.uuid, this.shardId, c, this.lanes.length),
      );
      this.status.lastCheckpoint = c.sequenceNumber;
    });
    return this.checkpointChain;
  }

  /** Retries a call to the substrate until it answers (bounded by stop for reads; writes keep going). */
  private async retrying<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        this.status.lastError = `${(error as Error).name}: ${(error as Error).message}`;
        if (attempt >= 50) throw error;
        await this.deps.clock.sleep(Math.min(1000, 50 * 2 ** attempt));
      }
    }
  }
}
