#!/usr/bin/env node
// `npm start`: the setup, then Hookline in a child process that this one stands in for. npm runs
// a script through a shell, and a signal sent to npm alone (a process manager stopping it, a
// `kill` of its pid) stopped at that shell, leaving Hookline running with nobody to stop it. Here
// SIGINT and SIGTERM are passed on, and so is the end of the process that started this one (npm,
// or the shell it ran): then Hookline shuts down as it does on Ctrl-C. This process exits with
// Hookline's code.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

await import('./setup.mjs');

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// The heap flags the Docker image runs with (src/node-flags.ts has why).
const child = spawn(process.execPath, ['--max-semi-space-size=8', '--heap-growing-percent=50', '--import', 'tsx', 'src/main.ts'], { cwd: root, stdio: 'inherit' });
// Ctrl-C reaches both processes; Hookline takes a second SIGINT as the one it is already serving.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
// A parent that ended without a signal reaching us: we were handed to another process (init).
const parent = process.ppid;
setInterval(() => process.ppid !== parent && child.kill('SIGTERM'), 1_000).unref();
child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 1)));
