// P6's load generator, in a worker thread, so that it runs beside the API's thread instead of on
// it, as an external load tool would: the figures are the API's, not the API's and this client's
// on one event loop. Plain JavaScript, so the thread needs no TypeScript loader.
//   mode 'closed': `concurrency` loops of POST /events; counts what completes inside the window.
//   mode 'open':   `count` POSTs started at `ratePerS` whatever is outstanding (past capacity).
import { parentPort, workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

const { mode, baseUrl, key, appId, concurrency, warmupMs, windowMs, count, ratePerS } = workerData;
const pool = new Pool(baseUrl, { connections: concurrency, keepAliveTimeout: 30_000, headersTimeout: 120_000, bodyTimeout: 120_000 });
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
const path = `/v1/apps/${appId}/events`;

/** One POST: its status (or network error) and milliseconds. */
async function post(i) {
  const started = performance.now();
  let status;
  try {
    const res = await pool.request({ method: 'POST', path, headers, body: JSON.stringify({ type: `bench.${mode}`, data: { i } }) });
    await res.body.dump();
    status = String(res.statusCode);
  } catch (err) {
    status = `error:${err?.code ?? 'unknown'}`;
  }
  return { status, ms: performance.now() - started };
}

async function closed() {
  let phase = 'warmup';
  let next = 0;
  const counted = { done: 0, failures: 0, statuses: {}, ms: [] };
  const loops = Array.from({ length: concurrency }, async () => {
    while (phase !== 'stopped') {
      const { status, ms } = await post(next++);
      if (phase !== 'window') continue;
      counted.statuses[status] = (counted.statuses[status] ?? 0) + 1;
      counted.ms.push(ms);
      if (status === '202') counted.done++;
      else counted.failures++;
    }
  });
  await sleep(warmupMs);
  phase = 'window';
  parentPort.postMessage({ type: 'window-start' });
  await sleep(windowMs);
  phase = 'stopped';
  parentPort.postMessage({ type: 'window-end', ...counted });
  await Promise.all(loops);
}

async function open() {
  const started = performance.now();
  const pending = [];
  for (let i = 0; i < count; i++) {
    const wait = started + (i * 1000) / ratePerS - performance.now();
    if (wait >= 1) await sleep(wait);
    pending.push(post(i));
  }
  const sendMs = performance.now() - started;
  const results = await Promise.all(pending);
  parentPort.postMessage({ type: 'open-end', results, sendMs, totalMs: performance.now() - started });
}

await (mode === 'open' ? open() : closed());
await pool.close();
parentPort.postMessage({ type: 'done' });
