/**
 * The workflow bundle, built in a short-lived child process. Bundling loads webpack and swc,
 * and a worker that bundled in its own process kept about 90 MB more RSS for as long as it
 * ran; built in a child, that memory goes when the child exits. The child is this same file.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BUNDLE_TIMEOUT_MS = 180_000;

/** Bundles `./workflows` in a child process and returns the bundle's code. */
export async function bundleWorkflowsInChild(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-bundle-'));
  const out = join(dir, 'workflow-bundle.js');
  try {
    // fork() passes this process's execArgv on, so a child of `tsx` loads TypeScript too.
    const child = fork(__filename, [out], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`bundling the workflows took longer than ${BUNDLE_TIMEOUT_MS} ms`));
      }, BUNDLE_TIMEOUT_MS);
      child.once('error', reject);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    if (code !== 0) throw new Error(`bundling the workflows failed (exit ${String(code)}); see the output above`);
    return readFileSync(out, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bundleTo(out: string): Promise<void> {
  const { bundleWorkflowCode, DefaultLogger } = await import('@temporalio/worker');
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('WARN') });
  writeFileSync(out, bundle.code);
}

if (require.main === module) {
  bundleTo(process.argv[2]!).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
