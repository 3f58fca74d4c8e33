/**
 * Every history in test/replay/histories (recorded by test/replay/record-histories.ts from the
 * versions named in the file names) replays against the current workflow code without a
 * nondeterminism error: runs that an older worker started can be finished by this one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

const dir = join(__dirname, '..', '..', 'test', 'replay', 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('replay of recorded histories', () => {
  it('has every scenario for every recorded version (scenarios are only ever added)', () => {
    const byVersion = new Map<string, Set<string>>();
    for (const f of files) {
      const [scenario, version] = f.replace(/\.json$/, '').split('@') as [string, string];
      byVersion.set(version, (byVersion.get(version) ?? new Set()).add(scenario));
    }
    expect(byVersion.size).toBeGreaterThanOrEqual(1);
    const fewest = Math.min(...[...byVersion.values()].map((s) => s.size));
    const oldest = [...byVersion.values()].find((s) => s.size === fewest)!;
    expect(oldest.size).toBeGreaterThanOrEqual(4);
    for (const scenarios of byVersion.values()) for (const s of oldest) expect(scenarios).toContain(s);
  });

  it.each(files)('%s replays on the current code', async (file) => {
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, file);
  });
});
