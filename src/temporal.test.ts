import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEMPORAL_DYNAMIC_CONFIG, devServerDynamicConfigArgs } from './temporal';

/** The keys and first values of a Temporal dynamic config file (only the shape our file uses). */
function readDynamicConfigFile(path: string): Record<string, number> {
  const out: Record<string, number> = {};
  let key: string | undefined;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const keyLine = /^([\w.]+):\s*$/.exec(line);
    if (keyLine) key = keyLine[1];
    const valueLine = /^\s+- value:\s*(\S+)\s*$/.exec(line);
    if (valueLine && key && !(key in out)) out[key] = Number(valueLine[1]);
  }
  return out;
}

describe('Temporal dynamic config', () => {
  it('is the same for the dev servers Hookline starts and for the docker-compose cluster', () => {
    const file = readDynamicConfigFile(join(__dirname, '..', 'deploy', 'temporal-dynamicconfig.yaml'));
    expect(file).toEqual(TEMPORAL_DYNAMIC_CONFIG);
  });

  it('becomes one --dynamic-config-value flag per key', () => {
    expect(devServerDynamicConfigArgs()).toEqual(['--dynamic-config-value', 'history.transferProcessorMaxPollRPS=200']);
  });
});
