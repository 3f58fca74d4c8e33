// P6's load generator, in a worker thread: a closed loop of POST /events over an undici Pool.
// It runs beside the API's thread instead of on it, as an external load tool would, so the
// figure is the API's capacity rather than the API's and this client's on one event loop.
// Plain JavaScript, so the thread needs no TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'undici';

const { baseUrl, key, appId, concurrency, warmupMs, windowMs } = workerData;
const pool = new Pool(baseUrl, { connections: concurrency, keepAliveTimeout: 30_000 });
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
const path = `/v1/apps/${appId}/events`;

let phase = 'warmup';
let next = 0;
const counted = { done: 0, failures: 0, statuses: {}, ms: [] };

async function post(i) {
  const started = performance.now();
  let status = 'error';
  try {
    const res = await pool.request({ method: 'POST', path, headers, body: JSON.stringify({ type: 'bench.ingest', data: { i } }) });
    await res.body.dump();
    status = String(res.statusCode);
  } catch (err) {
    status = `error:${err?.code ?? 'unknown'}`;
  }
  if (phase !== 'window') return;
  counted.statuses[status] = (counted.statuses[status] ?? 0) + 1;
  counted.ms.push(performance.now() - started);
  if (status === '202') counted.done++;
  else counted.failures++;
}

const workers = Array.from({ length: concurrency }, async () => {
  while (phase !== 'stopped') await post(next++);
});
setTimeout(() => {
  phase = 'window';
  parentPort.postMessage({ type: 'window-start' });
  setTimeout(() => {
    phase = 'stopped';
    parentPort.postMessage({ type: 'window-end', ...counted });
    Promise.all(workers).then(() => pool.close()).then(() => parentPort.postMessage({ type: 'done' }));
  }, windowMs);
}, warmupMs);
