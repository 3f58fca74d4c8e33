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
  it('has histories from more than one version to replay', () => {
    expect(new Set(files.map((f) => f.split('@')[1])).size).toBeGreaterThan(1);
  });

  it.each(files)('%s replays on the current code', async (file) => {
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, file);
  });
});
