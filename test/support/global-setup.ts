/**
 * Once per test run: a Temporal dev server (the pinned CLI), the workflow bundle, and a private
 * PostgreSQL unless TEST_DATABASE_URL names one. Test files read these through `inject`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { hooklineSearchAttributes } from '../../src/workflows/search-attributes';
import { devServerDynamicConfigArgs, devServerPartitionConfig } from '../../src/dev-server';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
    /** A server URL whose user may create databases; empty when PostgreSQL is unavailable. */
    postgresUrl: string;
  }
}

const root = join(__dirname, '..', '..');

function startPostgres(dir: string): string {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  if (process.env.HOOKLINE_TEST_POSTGRES === 'off') return '';
  try {
    return execFileSync(join(root, 'scripts', 'private-postgres.sh'), ['start', dir], { encoding: 'utf8' }).trim();
  } catch {
    process.stderr.write('\n[hookline tests] No PostgreSQL server binaries: the PostgreSQL half of the suite is skipped. .ci/run installs them.\n\n');
    return '';
  }
}

export default async function setup(project: TestProject) {
  const work = mkdtempSync(join(tmpdir(), 'hookline-test-'));
  // The CLI as `npm start` finds it; with none (no Go either), the SDK's own download, as there.
  const cli = spawnSync('node', [join(root, 'scripts', 'temporal-cli.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const cliPath = cli.status === 0 ? cli.stdout.trim() : undefined;
  const [env, bundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: cliPath ? { type: 'existing-path', path: cliPath } : { type: 'cached-download' },
        ip: '127.0.0.1',
        searchAttributes: hooklineSearchAttributes,
        extraArgs: devServerDynamicConfigArgs(devServerPartitionConfig(undefined)),
      },
    }),
    bundleWorkflowCode({ workflowsPath: join(root, 'src', 'workflows', 'index.ts'), logger: new DefaultLogger('WARN') }),
  ]);
  const bundlePath = join(work, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  // Its own temporary directory: as root the cluster belongs to `postgres`, who cannot enter `work`.
  const pgDir = mkdtempSync(join(tmpdir(), 'hookline-pg-'));
  const postgresUrl = startPostgres(pgDir);

  project.provide('temporalAddress', env.address);
  project.provide('workflowBundlePath', bundlePath);
  project.provide('postgresUrl', postgresUrl);

  return async () => {
    await env.teardown();
    if (postgresUrl && !process.env.TEST_DATABASE_URL) {
      try {
        execFileSync(join(root, 'scripts', 'private-postgres.sh'), ['stop', pgDir]);
      } catch {
        /* already gone */
      }
    }
    rmSync(work, { recursive: true, force: true });
    rmSync(pgDir, { recursive: true, force: true });
  };
}
