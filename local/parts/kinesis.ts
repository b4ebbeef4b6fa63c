import fs from 'node:fs';
import kinesalite from 'kinesalite';
import { fail, onShutdown, requiredEnv } from './part-runtime.ts';

// kinesalite bound to loopback only (its own CLI listens on every interface); data persists in LevelDB.
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
server.on('error', (error) => fail('kinesalite', error));
server.listen(port, '127.0.0.1', () => console.log(`kinesalite listening on 127.0.0.1:${port}`));
onShutdown(() => new Promise<void>((resolve) => server.close(() => resolve())));
