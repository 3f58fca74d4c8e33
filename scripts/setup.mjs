#!/usr/bin/env node
// Runs before `npm start` and `npm test`: installs what a fresh clone lacks and says so.
// Uses only Node built-ins, since dependencies may not be installed yet.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTemporalCli } from './temporal-cli.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => process.stderr.write(`[hookline] ${m}\n`);

function dependenciesMissing() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(marker)) return true;
  // A lockfile newer than the install means dependencies changed since the last install.
  return statSync(join(root, 'package-lock.json')).mtimeMs > statSync(marker).mtimeMs + 1000;
}

if (dependenciesMissing()) {
  // `npm ci`: exactly the lockfile, which it never rewrites, so a fresh clone stays clean. (After
  // editing package.json, run `npm install` yourself: `npm ci` refuses a lockfile out of step.)
  log('Installing dependencies (npm ci)...');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

const major = Number(process.versions.node.split('.')[0]);
const { engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (major < 20) log(`Node ${process.versions.node} is older than ${engines.node}; expect trouble.`);

ensureTemporalCli({ log });
