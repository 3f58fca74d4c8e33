import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_HEAP_FLAGS } from './node-flags';

const root = join(__dirname, '..');

describe('node heap flags', () => {
  it('npm start passes them to node', () => {
    const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.start).toContain(`node ${NODE_HEAP_FLAGS.join(' ')} `);
  });

  it('the Docker image passes them to node', () => {
    const cmd = /^CMD (.*)$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1];
    expect(JSON.parse(cmd ?? '[]')).toEqual(['node', ...NODE_HEAP_FLAGS, 'dist/main.js']);
  });

  it('this node accepts them (an unknown flag would stop the process at start)', () => {
    const heap = execFileSync(process.execPath, [...NODE_HEAP_FLAGS, '-p', "require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_available_size"], { encoding: 'utf8' });
    expect(Number(heap)).toBeGreaterThan(0);
  });
});
