/**
 * Foundation figures (issue 3): how long one delivery takes end to end (event accepted → request
 * received), and how long one event to 5,000 endpoints takes, on the embedded defaults (local dev
 * server with WAL pragmas, PGlite) or on PostgreSQL with DATABASE_URL.
 *   npx tsx bench/foundation.ts [singleEvents=50] [fanOutEndpoints=5000]
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fanOutWorkflowId } from '../src/workflows/fan-out';
import { percentile, progress, startCountingReceiver, startStack } from './support';

async function main() {
  const singles = Number(process.argv[2] ?? 50);
  const fanOutSize = Number(process.argv[3] ?? 5000);
  const receiver = await startCountingReceiver();
  const stack = await startStack();
  const { hookline } = stack;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(hookline.apiUrl! + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string };
  };
  try {
    // 1. Single deliveries, one at a time: accepted (API answered) → first byte at the receiver.
    const app = await post('/v1/apps', { name: 'bench-single' });
    await post(`/v1/apps/${app.id}/endpoints`, { url: `${receiver.url}/single` });
    const latencies: number[] = [];
    for (let i = 0; i < singles; i++) {
      const accepted = performance.now();
      const event = await post(`/v1/apps/${app.id}/events`, { type: 'bench.single', data: { i } });
      await receiver.waitForCount(i + 1, 30_000);
      latencies.push(receiver.firstArrival.get(event.id)! - accepted);
    }
    latencies.sort((a, b) => a - b);

    // 2. One event to N endpoints.
    const big = await post('/v1/apps', { name: 'bench-fanout' });
    const createStarted = performance.now();
    for (let i = 0; i < fanOutSize; i++) {
      await hookline.store.endpoints.create(big.id, fanOutSize, {
        uid: null, url: `${receiver.url}/fan/${i}`, description: '', eventTypes: ['*'], channels: null,
        signatureScheme: 'standard', signatureHeader: null, headers: null, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', timeoutMs: 10_000,
        rateLimitPerS: null, retrySchedule: null, metadata: {},
      });
    }
    const createMs = performance.now() - createStarted;
    const before = receiver.count;
    const fanStarted = performance.now();
    const event = await post(`/v1/apps/${big.id}/events`, { type: 'bench.fanout', data: { n: fanOutSize } });
    await receiver.waitForCount(before + fanOutSize, 30 * 60_000, progress(`fan-out to ${fanOutSize}`));
    const fanMs = performance.now() - fanStarted;
    process.stderr.write('\n');

    let runs = 0;
    let maxHistory = 0;
    for await (const w of hookline.client.workflow.list({ query: `WorkflowId = '${fanOutWorkflowId(event.id)}'` })) {
      runs++;
      maxHistory = Math.max(maxHistory, w.historyLength);
    }
    const result = {
      store: process.env.DATABASE_URL ? 'postgresql' : 'pglite',
      single: { events: singles, p50Ms: percentile(latencies, 50), p90Ms: percentile(latencies, 90), p99Ms: percentile(latencies, 99), maxMs: latencies.at(-1) },
      fanOut: { endpoints: fanOutSize, seconds: fanMs / 1000, deliveriesPerS: fanOutSize / (fanMs / 1000), fanOutRuns: runs, maxRunHistoryEvents: maxHistory, endpointCreateSeconds: createMs / 1000 },
    };
    console.log(JSON.stringify(result, null, 2));
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(join(__dirname, 'results', `foundation-${Date.now()}.json`), JSON.stringify(result, null, 2));
  } finally {
    await stack.stop();
    await receiver.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
