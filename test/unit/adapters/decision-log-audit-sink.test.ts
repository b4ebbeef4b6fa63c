import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { s3AuditSink } from '../../../lib/adapters/decision-log-dependencies.ts';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import { type AuditRecord, auditRecordEvent } from '../../../lib/contracts/decision-log.ts';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { parseEvidenceRef } from '../../../lib/contracts/receipts.ts';
import { intakeDecisionLogBatch } from '../../../lib/decision-log/intake.ts';
import {
  busRecord,
  decisionEnvelope,
  decisionIdOf,
  intentEnvelope,
  outcomeEnvelope,
  RUN,
} from '../decision-log/fixtures.ts';
import { memoryPorts } from '../decision-log/in-memory-decision-log-store.ts';

/**
 * The decision log's audit sink on S3 (`s3AuditSink`, lib/adapters/decision-log-dependencies.ts), with an S3 client
 * and IG's publish faked at the port: a batch's audit records are one write-once JSON-lines segment named by its
 * content, sorted by audit_id, and each record's audit event points at its own line by byte range.
 */

const BUCKET = 'fraud-platform';
type Event = ReturnType<typeof auditRecordEvent>;

/** An S3 client holding objects in memory: PutObject only, `If-None-Match: *` answered 412 when the key exists. */
function fakeS3() {
  const objects = new Map<string, Buffer>();
  const puts: Record<string, unknown>[] = [];
  const control = { failing: false };
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      if (command.constructor.name !== 'PutObjectCommand')
        throw new Error(`unexpected ${command.constructor.name}`);
      const input = command.input;
      puts.push(input);
      if (control.failing)
        throw Object.assign(new Error('service unavailable'), { $metadata: { httpStatusCode: 503 } });
      const key = String(input.Key);
      if (input.IfNoneMatch === '*' && objects.has(key))
        throw Object.assign(new Error('PreconditionFailed'), {
          name: 'PreconditionFailed',
          $metadata: { httpStatusCode: 412 },
        });
      objects.set(key, Buffer.from(input.Body as Uint8Array));
      return {};
    },
  } as unknown as S3Client;
  return { client, objects, puts, control };
}

function sinkOver(s3: ReturnType<typeof fakeS3>, publishFails = false) {
  const published: Event[][] = [];
  const sink = s3AuditSink(s3.client, BUCKET, async (events) => {
    if (publishFails) throw new Error('IG_PUSH_RETRY_EXHAUSTED:timeout');
    published.push(events);
  });
  return { sink, published };
}

/** The audit records of three resolved chains, as the intake builds them. */
async function auditRecords(): Promise<AuditRecord[]> {
  const { ports } = memoryPorts();
  const envelopes = ['a', 'b', 'c'].flatMap((name) => {
    const d = decisionIdOf(`sink-${name}`);
    return [decisionEnvelope(d), intentEnvelope(d), outcomeEnvelope(d)];
  });
  const result = await intakeDecisionLogBatch(
    ports,
    envelopes.map((e, i) => busRecord(100 + i, e)),
  );
  expect(result.auditRecords).toHaveLength(3);
  return result.auditRecords;
}

const byAuditId = (records: readonly AuditRecord[]) =>
  [...records].sort((a, b) => (a.audit_id < b.audit_id ? -1 : 1));

describe('s3AuditSink', () => {
  it('writes one segment per batch, named by its content digest, its lines the records sorted by audit_id', async () => {
    const records = await auditRecords();
    const s3 = fakeS3();
    const { sink } = sinkOver(s3);
    await sink.append([...records].reverse());
    const body = byAuditId(records)
      .map((r) => `${canonicalJson(r)}\n`)
      .join('');
    const key = `${RUN}/decision_log_audit/segments/${sha256Hex(Buffer.from(body)).slice(0, 32)}.jsonl`;
    expect(s3.puts).toHaveLength(1);
    expect(s3.puts[0]).toMatchObject({
      Bucket: BUCKET,
      Key: key,
      ContentType: 'application/x-ndjson',
      IfNoneMatch: '*',
    });
    expect([...s3.objects.keys()]).toEqual([key]);
    expect(s3.objects.get(key)?.toString('utf8')).toBe(body);
  });

  it('publishes one audit event per record, in audit_id order; each record_ref selects exactly its line', async () => {
    const records = await auditRecords();
    const s3 = fakeS3();
    const { sink, published } = sinkOver(s3);
    await sink.append(records);
    expect(published).toHaveLength(1);
    const events = published[0] as Event[];
    const sorted = byAuditId(records);
    expect(events.map((e) => e.event_id)).toEqual(sorted.map((r) => r.audit_id));
    const [key, segment] = [...s3.objects][0] as [string, Buffer];
    let next = 0;
    for (const [i, event] of events.entries()) {
      const record = sorted[i] as AuditRecord;
      const ref = parseEvidenceRef(String(event.payload.record_ref));
      expect({ bucket: ref.bucket, key: ref.key }).toEqual({ bucket: BUCKET, key });
      const range = ref.range as { start: number; end: number };
      // The ranges are inclusive, contiguous and cover the segment.
      expect(range.start).toBe(next);
      next = range.end + 1;
      expect(segment.subarray(range.start, range.end + 1).toString('utf8')).toBe(
        `${canonicalJson(record)}\n`,
      );
      expect(event).toEqual(auditRecordEvent(record, event.payload.record_ref));
    }
    expect(next).toBe(segment.length);
  });

  it('the same records again (in any order): the same key, refused as already written, the same events', async () => {
    const records = await auditRecords();
    const s3 = fakeS3();
    const { sink, published } = sinkOver(s3);
    await sink.append(records);
    await sink.append([records[2], records[0], records[1]] as AuditRecord[]);
    expect(s3.puts).toHaveLength(2);
    expect(s3.puts[1]?.Key).toBe(s3.puts[0]?.Key);
    expect(s3.objects.size).toBe(1);
    expect(published[1]).toEqual(published[0]);
    // Other records: another segment.
    await sink.append(records.slice(1));
    expect(s3.objects.size).toBe(2);
  });

  it('an empty batch writes nothing and publishes nothing', async () => {
    const s3 = fakeS3();
    const { sink, published } = sinkOver(s3);
    await sink.append([]);
    expect(s3.puts).toEqual([]);
    expect(published).toEqual([]);
  });

  it('an S3 or IG failure escapes (the batch rolls back); nothing is published without its segment', async () => {
    const records = await auditRecords();
    const s3 = fakeS3();
    s3.control.failing = true;
    const down = sinkOver(s3);
    await expect(down.sink.append(records)).rejects.toThrow('service unavailable');
    expect(down.published).toEqual([]);
    s3.control.failing = false;
    await expect(sinkOver(s3, true).sink.append(records)).rejects.toThrow('IG_PUSH_RETRY_EXHAUSTED');
    // The retry finds its segment written and publishes.
    const retry = sinkOver(s3);
    await retry.sink.append(records);
    expect(s3.objects.size).toBe(1);
    expect(retry.published).toHaveLength(1);
  });
});
