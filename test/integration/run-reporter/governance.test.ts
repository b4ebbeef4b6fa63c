import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import { s3GovernanceEventSink } from '../../../lib/adapters/governance-sink.ts';
import type { PlatformGovernanceEvent } from '../../../lib/contracts/governance.ts';
import { reportGeneratedEvent, runEndedEvent } from '../../../lib/run-reporter/governance.ts';
import { clientsFor } from '../../support/clients.ts';

/**
 * downstream.md §9 #19 on the local cloud's S3 emulator: the run reporter's governance events through the platform's
 * sink. The same event emitted twice ⇒ one object and one line of events.jsonl. When every append loses
 * (S3_APPEND_CONFLICT: here the emulator answers each conditional put of the log with 412, because the put carries
 * an ETag that is not the object's) the event's own object is still written, emit succeeds, and the event reads back
 * by its id.
 */

const { state } = inject('stack');
const { s3 } = clientsFor(state);
const provenance = { service_release_id: 'dev-local', environment: 'test' };

const newRun = () => {
  const d = new Date(Date.UTC(2031, 0, 1, 0, 0, Math.floor(Math.random() * 86_400)));
  return `platform_${d.toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`;
};

async function text(client: S3Client, bucket: string, key: string) {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await got.Body?.transformToString()) ?? '';
}

describe('governance events (§9 #19) on the S3 emulator', () => {
  it('the same event twice: one object, one line', async () => {
    const bucket = `gov-${randomUUID().slice(0, 8)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const run = newRun();
    const ctx = { platformRunId: run, scenarioRunId: undefined, provenance, at: new Date() };
    const sink = s3GovernanceEventSink<PlatformGovernanceEvent>(s3, bucket, () => undefined);
    const event = reportGeneratedEvent(
      ctx,
      `s3://${bucket}/${run}/obs/platform_run_report.json`,
      'a'.repeat(64),
    );
    expect(await sink.emit(event)).toBe(true);
    expect(await sink.emit(event)).toBe(false);
    const objects = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${run}/obs/governance/events/` }),
    );
    expect(objects.Contents?.map((o) => o.Key)).toEqual([
      `${run}/obs/governance/events/${event.event_id}.json`,
    ]);
    const lines = (await text(s3, bucket, `${run}/obs/governance/events.jsonl`)).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}').event_id).toBe(event.event_id);
  });

  it('S3_APPEND_CONFLICT: the object is written, emit succeeds (warned), the event reads back by id', async () => {
    const bucket = `gov-${randomUUID().slice(0, 8)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const run = newRun();
    const ctx = { platformRunId: run, scenarioRunId: undefined, provenance, at: new Date() };
    // A first event makes the log exist; from then on every append is a conditional put on its ETag.
    const first = reportGeneratedEvent(ctx, `s3://${bucket}/${run}/obs/r.json`, 'b'.repeat(64));
    await s3GovernanceEventSink<PlatformGovernanceEvent>(s3, bucket, () => undefined).emit(first);
    // A client whose conditional puts of the log carry another ETag: the emulator refuses each with 412.
    const { s3: losing } = clientsFor(state);
    losing.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Key?: string; IfMatch?: string };
        if (input.Key?.endsWith('/events.jsonl') && input.IfMatch !== undefined)
          input.IfMatch = '"00000000000000000000000000000000"';
        return next(args);
      },
      { step: 'initialize', name: 'loseEveryAppend' },
    );
    const warnings: string[] = [];
    const sink = s3GovernanceEventSink<PlatformGovernanceEvent>(losing, bucket, (line) =>
      warnings.push(line),
    );
    const ended = runEndedEvent(ctx, 'CLOSED', `s3://${bucket}/${run}/obs/r.json`);
    expect(await sink.emit(ended)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^S3_APPEND_CONFLICT /);
    const stored = JSON.parse(await text(s3, bucket, `${run}/obs/governance/events/${ended.event_id}.json`));
    expect(stored).toMatchObject({ event_id: ended.event_id, event_family: 'RUN_ENDED' });
    // The log kept only the first event: the per-event object is the truth.
    expect(await text(s3, bucket, `${run}/obs/governance/events.jsonl`)).not.toContain(ended.event_id);
  });
});
