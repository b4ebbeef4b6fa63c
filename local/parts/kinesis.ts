import { createDecipheriv } from 'node:crypto';
import fs from 'node:fs';
import type { RequestListener } from 'node:http';
import { createRequire } from 'node:module';
import kinesalite from 'kinesalite';
import { guardJsonProtocol, serviceIam } from './iam-enforcement.ts';
import { fail, onShutdown, requiredEnv } from './part-runtime.ts';

// kinesalite bound to loopback only (its own CLI listens on every interface); data persists in LevelDB. The
// functions' roles are enforced in front of it (iam-enforcement.ts).
const port = Number(requiredEnv('PART_PORT'));
const dataDir = requiredEnv('PART_DATA_DIR');
fs.mkdirSync(dataDir, { recursive: true });
const server = kinesalite({
  path: dataDir,
  createStreamMs: 50,
  deleteStreamMs: 50,
  updateStreamMs: 50,
  shardLimit: 200,
});

// kinesalite's shard iterators: 8 bytes, then `<time>/<stream>/<shard>/<seq>/…` in AES-256-CBC under its fixed key.
const iteratorKeys = createRequire(import.meta.url)('kinesalite/db') as {
  ITERATOR_PWD_KEY: Buffer;
  ITERATOR_PWD_IV: Buffer;
};
function streamOfIterator(iterator: string): string | undefined {
  try {
    const sealed = Buffer.from(iterator, 'base64').subarray(8);
    const decipher = createDecipheriv(
      'aes-256-cbc',
      iteratorKeys.ITERATOR_PWD_KEY,
      iteratorKeys.ITERATOR_PWD_IV,
    );
    return Buffer.concat([decipher.update(sealed), decipher.final()])
      .toString('utf8')
      .split('/')[1];
  } catch {
    return undefined;
  }
}

const [kinesaliteHandler] = server.listeners('request') as RequestListener[];
if (!kinesaliteHandler) fail('kinesalite', new Error('kinesalite server has no request handler'));
server.removeAllListeners('request');
server.on(
  'request',
  guardJsonProtocol({ protocol: 'kinesis', iam: serviceIam(), streamOfIterator }, kinesaliteHandler),
);
server.on('error', (error) => fail('kinesalite', error));
server.listen(port, '127.0.0.1', () => console.log(`kinesalite listening on 127.0.0.1:${port}`));
onShutdown(() => new Promise<void>((resolve) => server.close(() => resolve())));
