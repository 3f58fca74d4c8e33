#!/usr/bin/env node
// Provides the Temporal CLI (dev server with the Web UI) at a pinned version. In order:
//   1. TEMPORAL_CLI_PATH, if set;
//   2. the project's own build in .tools/bin/temporal;
//   3. a `temporal` on PATH (a user's own install);
//   4. a build of the official CLI from Go modules into .tools/bin (needs Go; minutes the first
//      time, then Go's cache makes it quick).
// With none of these, Hookline falls back to the SDK's own download, which needs internet.
// Run directly, it prints the path it settled on.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, '.tools', 'bin');
export const pinnedCliPath = join(binDir, 'temporal');

function onPath(name) {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** Returns the CLI path, building it if needed; undefined when nothing can provide one. */
export function ensureTemporalCli({ log = (m) => process.stderr.write(`[hookline] ${m}\n`) } = {}) {
  if (process.env.TEMPORAL_CLI_PATH) return process.env.TEMPORAL_CLI_PATH;
  if (existsSync(pinnedCliPath)) return pinnedCliPath;
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  if (!onPath('go')) {
    log('No Temporal CLI and no Go toolchain: the SDK will try to download the dev server (needs internet).');
    return undefined;
  }
  log(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} from Go modules into .tools/bin (first time only; takes a few minutes)...`);
  mkdirSync(binDir, { recursive: true });
  execFileSync('go', ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
    stdio: 'inherit',
    env: { ...process.env, GOBIN: binDir, CGO_ENABLED: '0' },
  });
  log(`Temporal CLI ready: ${pinnedCliPath}`);
  return pinnedCliPath;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const path = ensureTemporalCli();
  if (path) process.stdout.write(`${path}\n`);
  else process.exitCode = 1;
}
