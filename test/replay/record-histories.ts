/**
 * Records workflow histories for the replay test (`src/workflows/replay.test.ts`).
 *
 * Run it on the version whose histories you want to keep, **before** you change a workflow, and
 * commit the files it writes to `test/replay/histories/`. For the committed HEAD (with
 * `src/workflows` unchanged) that is `npx tsx test/replay/record-histories.ts`. For an older
 * commit, from this repository's root:
 *
 *   git worktree add --detach /tmp/old <commit>
 *   mkdir -p /tmp/old/test/replay && cp test/replay/record-histories.ts /tmp/old/test/replay/
 *   ln -s "$PWD/node_modules" /tmp/old/node_modules
 *   (cd /tmp/old && TEMPORAL_CLI_PATH="$OLDPWD/.tools/bin/temporal" npx tsx test/replay/record-histories.ts "$OLDPWD/test/replay/histories")
 *   git worktree remove --force /tmp/old
 *
 * When a change touches a path no scenario below takes, add a scenario first.
 *
 * The replay test then replays every file against the current workflow code: a change that would
 * break a run started by the old code fails there, not in production. The activities are untyped
 * fakes and only long-standing workflow exports are imported, so this script runs against older
 * checkouts too.
 */
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { delivery, deliveryWorkflowId, endpointDisabledSignal, resendSignal } from '../../src/workflows/delivery';
import { endpointHealth, endpointHealthWorkflowId } from '../../src/workflows/endpoint-health';
import { fanOut, fanOutWorkflowId } from '../../src/workflows/fan-out';
import { recover, recoverWorkflowId } from '../../src/workflows/recover';
import { hooklineSearchAttributes } from '../../src/workflows/search-attributes';

const root = join(__dirname, '..', '..');
const outDir = process.argv[2] ?? join(__dirname, 'histories');
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
// The file names say which commit the histories come from: they must be that commit's code.
if (execFileSync('git', ['status', '--porcelain', 'src/workflows'], { cwd: root, encoding: 'utf8' }).trim() !== '') {
  process.stderr.write('src/workflows has uncommitted changes: commit them, or record from a clean checkout\n');
  process.exit(1);
}

interface Attempt {
  deliveryId: string;
  attemptNumber: number;
  afterFailedTry?: boolean;
}
const failed = (nextDelayMs: number | null) => ({ outcome: 'failed', statusCode: 500, errorCode: null, nextDelayMs, scheduleLength: 3 });
const succeeded = { outcome: 'succeeded', statusCode: 200, errorCode: null, nextDelayMs: null, scheduleLength: 3 };
const disabled = { outcome: 'disabled', statusCode: null, errorCode: null, nextDelayMs: null, scheduleLength: 0 };

const infraTries = new Map<string, number>();
const throttledOnce = new Set<string>();
const busyOnce = new Set<string>();

/** Scripted outcomes by delivery id prefix; anything else succeeds at once. */
function sendWebhook({ deliveryId, attemptNumber }: Attempt) {
  if (deliveryId.startsWith('dlv_notice_')) {
    if (attemptNumber === 1) return Promise.resolve(failed(3_600_000));
    // The resend's attempt reads the endpoint enabled again: status version 2 (disabled at 1).
    if (attemptNumber === 2) return Promise.resolve({ ...failed(3_600_000), endpointStatusVersion: 2 });
    return Promise.resolve(disabled);
  }
  if (deliveryId.startsWith('dlv_bare_')) return Promise.resolve(attemptNumber === 1 ? failed(3_600_000) : disabled);
  if (deliveryId.startsWith('dlv_infra_')) {
    // Tries of attempt 1: a plain failure (store down), then one after the attempt was recorded
    // (only a follow-up failed), then the try that concludes from the record.
    const tries = (infraTries.get(deliveryId) ?? 0) + 1;
    infraTries.set(deliveryId, tries);
    if (tries === 1) return Promise.reject(new Error('store unavailable'));
    if (tries === 2) return Promise.reject(ApplicationFailure.create({ type: 'FollowUpFailed', message: 'health wake failed' }));
    return Promise.resolve(succeeded);
  }
  if (deliveryId.startsWith('dlv_schedule_')) {
    // A reserved rate-limit slot, then a scheduled retry, then success.
    if (attemptNumber === 1 && !throttledOnce.has(deliveryId)) {
      throttledOnce.add(deliveryId);
      return Promise.resolve({ ...failed(200), outcome: 'throttled', statusCode: null });
    }
    return Promise.resolve(attemptNumber === 1 ? failed(300) : succeeded);
  }
  if (deliveryId.startsWith('dlv_busy_')) {
    // Each attempt finds the endpoint busy once; the first then fails, the second succeeds.
    const key = `${deliveryId}#${attemptNumber}`;
    if (!busyOnce.has(key)) {
      busyOnce.add(key);
      return Promise.resolve({ ...failed(150), outcome: 'busy', statusCode: null });
    }
    return Promise.resolve(attemptNumber === 1 ? failed(300) : succeeded);
  }
  if (deliveryId.startsWith('dlv_once_')) return Promise.resolve(failed(null));
  return Promise.resolve(succeeded);
}

const activities = {
  sendWebhook,
  resolveEndpoints: async ({ eventId }: { eventId: string }) => ({
    deliveries: ['ep_a', 'ep_b', 'ep_c'].map((ep) => ({ deliveryId: `dlv_${eventId}_${ep}`, endpointId: ep })),
    skipped: 0,
    nextAfter: null,
  }),
  checkEndpointHealth: async () => ({ verdict: 'disabled', reason: 'recorded', nextCheckMs: 0 }),
  stopDisabledDeliveries: async () => ({ stopped: 0 }),
  // A full page, then a short one: the recovery completes after its second page.
  recoverPage: async ({ after }: { after: string | null }) => (after === null ? { resent: 2, lastId: 'dlv_rec_2', endpointGone: false } : { resent: 1, lastId: 'dlv_rec_3', endpointGone: false }),
};

const { History } = temporal.api.history.v1;

/**
 * Through @temporalio/proto's own codec, which the replay test reads back with `History.fromObject`.
 * (The SDK's `historyToJSON` fails with "type must be a Type" when npm installs two protobufjs copies.)
 */
function historyJson(history: temporal.api.history.v1.IHistory): string {
  return JSON.stringify(History.toObject(History.fromObject(history), { longs: String, enums: String, bytes: String }));
}

async function main() {
  const cli = execFileSync('node', [join(root, 'scripts', 'temporal-cli.mjs')], { encoding: 'utf8' }).trim();
  const env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: cli }, ip: '127.0.0.1', searchAttributes: hooklineSearchAttributes } });
  const recorded: Record<string, string> = {};
  try {
    const taskQueue = `record-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, activities, workflowsPath: join(root, 'src', 'workflows', 'index.ts') });
    const client = env.client.workflow;
    const record = async (name: string, workflowId: string) => {
      recorded[name] = historyJson(await client.getHandle(workflowId).fetchHistory());
    };
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    /** Starts a delivery whose attempts the fake scripts by its id prefix. */
    const startDelivery = (prefix: string, extra: Record<string, unknown> = {}) => {
      const id = randomUUID();
      const input = { appId: 'app_rec', eventType: 'a.b', deliveryId: `dlv_${prefix}_${id}`, eventId: `evt_${prefix}_${id}`, endpointId: 'ep_1', ...extra };
      return client.start(delivery, { taskQueue, workflowId: deliveryWorkflowId(input.eventId, input.endpointId), args: [input] });
    };
    /** Waits for k recorded attempts, and a little for the run to settle into its wait. */
    const untilAttempts = async (handle: Awaited<ReturnType<typeof startDelivery>>, k: number) => {
      const attempts = async () => ((await handle.fetchHistory()).events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length;
      while ((await attempts()) < k) await pause(50);
      await pause(300);
    };

    await worker.runUntil(async () => {
      const first = await startDelivery('first');
      await first.result();
      await record('delivery-first-try', first.workflowId);

      // A resend, then a late notice of a disable older than the re-enable, then a fresh notice.
      const notice = await startDelivery('notice');
      await untilAttempts(notice, 1);
      await notice.signal(resendSignal);
      await untilAttempts(notice, 2);
      await notice.signal(endpointDisabledSignal, { statusVersion: 1 });
      await pause(500);
      // Versions before the notice's status version end on the first notice (they ignore its
      // argument, as they would a notice without one); the second then finds no run.
      await notice.signal(endpointDisabledSignal, { statusVersion: 3 }).catch(() => undefined);
      await notice.result();
      await record('delivery-resend-and-disable-notices', notice.workflowId);

      // A notice as health workers before the status version sent it: no argument.
      const bare = await startDelivery('bare');
      await untilAttempts(bare, 1);
      await bare.signal(endpointDisabledSignal);
      await bare.result();
      await record('delivery-disable-notice-without-argument', bare.workflowId);

      // Two infrastructure failures of attempt 1 (1 s and 5 s waits), the second after its record.
      const infra = await startDelivery('infra');
      await infra.result();
      await record('delivery-infra-failures', infra.workflowId);

      // A rate-limit slot, a scheduled retry, success.
      const schedule = await startDelivery('schedule');
      await schedule.result();
      await record('delivery-throttled-then-retry', schedule.workflowId);

      // A busy endpoint before each of two attempts (since 'busy' exists; older versions lack it).
      const busy = await startDelivery('busy');
      await busy.result();
      await record('delivery-busy-endpoint', busy.workflowId);

      // A resend's revival of a finished delivery, and a test send: one attempt each, no retries.
      const revived = await startDelivery('once', { revive: { attemptNumber: 4 } });
      await revived.result();
      await record('delivery-revive', revived.workflowId);
      const test = await startDelivery('once', { test: true });
      await test.result();
      await record('delivery-test-send', test.workflowId);

      // The next run after a continue-as-new in an outage, with a resend pending.
      const resume = { attemptNumber: 2, retryIndex: 1, trigger: 'scheduled', slotReserved: false, infraFailures: 50, afterFailedTry: false, scheduleEnded: false, resendRequested: true, seenStatusVersion: null };
      const resumed = await startDelivery('resumed', { resume });
      await resumed.result();
      await record('delivery-resumed', resumed.workflowId);

      const eventId = `evt_fan_${randomUUID()}`;
      await client.execute(fanOut, { taskQueue, workflowId: fanOutWorkflowId(eventId), args: [{ appId: 'app_rec', eventType: 'a.b', eventId }] });
      await record('fanout-three-endpoints', fanOutWorkflowId(eventId));

      const recoveryId = `rcv_rec_${randomUUID()}`;
      const since = Date.now() - 60_000;
      await client.execute(recover, { taskQueue, workflowId: recoverWorkflowId(recoveryId), args: [{ recoveryId, appId: 'app_rec', endpointId: 'ep_1', sinceMs: since, untilMs: since + 30_000, perS: 2 }] });
      await record('recover-two-pages', recoverWorkflowId(recoveryId));

      const endpointId = `ep_rec_${randomUUID()}`;
      await client.execute(endpointHealth, { taskQueue, workflowId: endpointHealthWorkflowId(endpointId), args: [{ endpointId }] });
      await record('endpoint-health-disabled', endpointHealthWorkflowId(endpointId));
    });
  } finally {
    // Also on failure: the dev server is a child process that would outlive this script.
    await env.teardown();
  }

  mkdirSync(outDir, { recursive: true });
  for (const [name, json] of Object.entries(recorded)) writeFileSync(join(outDir, `${name}@${commit}.json`), json);
  process.stdout.write(`recorded ${Object.keys(recorded).length} histories at ${commit} in ${outDir}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
