import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { appendLineOnce } from '../../../lib/adapters/s3-objects.ts';

/** An S3 client at the port: one object in memory; the first put is written but its answer is lost. */
function droppingClient() {
  let body: string | undefined;
  let puts = 0;
  const client = {
    send: async (command: { constructor: { name: string }; input: { Body?: string } }) => {
      if (command.constructor.name === 'GetObjectCommand') {
        if (body === undefined)
          throw Object.assign(new Error('NoSuchKey'), {
            name: 'NoSuchKey',
            $metadata: { httpStatusCode: 404 },
          });
        const text = body;
        return { ETag: `"${text.length}"`, Body: { transformToByteArray: async () => Buffer.from(text) } };
      }
      puts++;
      body = String(command.input.Body);
      if (puts === 1) throw new Error('aborted'); // written, but the connection dropped before the answer
      return {};
    },
  } as unknown as S3Client;
  return { client, text: () => body, puts: () => puts };
}

describe('appendLineOnce when an answer is lost', () => {
  it('reads again and finds its line instead of failing or writing it twice', async () => {
    const s3 = droppingClient();
    expect(await appendLineOnce(s3.client, 'b', 'k.jsonl', '{"event_id":"e1"}', '"e1"', 3)).toBe(false);
    expect(s3.text()).toBe('{"event_id":"e1"}\n');
    expect(s3.puts()).toBe(1);
  });
});
