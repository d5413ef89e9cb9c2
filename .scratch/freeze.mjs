import net from 'node:net';
import { TaskStore } from '../dist/lib/index.js';
const [target, port] = [process.argv[2], Number(process.argv[3])];
let frozen = false; const pairs = new Set();
const server = net.createServer((client) => {
  const upstream = net.connect(port, '127.0.0.1');
  const pair = { client, upstream }; pairs.add(pair);
  client.on('data', (d) => { if (!frozen) upstream.write(d); });
  upstream.on('data', (d) => { if (!frozen) client.write(d); });
  const end = () => { client.destroy(); upstream.destroy(); pairs.delete(pair); };
  client.on('close', end); upstream.on('close', end); client.on('error', end); upstream.on('error', end);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const p = server.address().port;
const url = target === 'pg' ? `postgres://postgres@127.0.0.1:${p}/test` : `mysql://root@127.0.0.1:${p}/test`;
const store = await TaskStore.open({ database: url, statementTimeoutMs: 2000 });
const t0 = Date.now();
console.log('count', await store.taskQueueCount());
frozen = true;
try { console.log(await store.taskQueueCount()); } catch (e) { console.log('frozen ->', e.code, e.message, e.cause?.code, Date.now() - t0, 'ms'); }
frozen = false;
console.log('after thaw', await store.taskQueueCount(), Date.now() - t0, 'ms');
await store.close(); server.close(); for (const x of pairs) { x.client.destroy(); x.upstream.destroy(); }
