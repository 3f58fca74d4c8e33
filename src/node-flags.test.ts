import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_HEAP_FLAGS } from './node-flags';

const root = join(__dirname, '..');

describe('node heap flags', () => {
  it('npm start passes them to node', () => {
    const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.start).toBe('node scripts/start.mjs');
    // scripts/start.mjs runs Hookline as its child, with these flags first.
    expect(readFileSync(join(root, 'scripts', 'start.mjs'), 'utf8')).toContain(`spawn(process.execPath, [${NODE_HEAP_FLAGS.map((f) => `'${f}'`).join(', ')}, '--import', 'tsx', 'src/main.ts']`);
  });

  it('the Docker image passes them to node', () => {
    const cmd = /^CMD (.*)$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1];
    expect(JSON.parse(cmd ?? '[]')).toEqual(['node', ...NODE_HEAP_FLAGS, 'dist/main.js']);
  });

  it('this node accepts them (an unknown flag would stop the process at start)', () => {
    expect(() => execFileSync(process.execPath, [...NODE_HEAP_FLAGS, '-e', ''], { stdio: 'pipe' })).not.toThrow();
    expect(() => execFileSync(process.execPath, ['--no-such-heap-flag', '-e', ''], { stdio: 'pipe' })).toThrow();
  });
});
