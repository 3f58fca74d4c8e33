import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { TEMPORAL_DYNAMIC_CONFIG, devServerDynamicConfigArgs, devServerPartitionConfig, findTemporalCli, partitionMarker, requirePortFree, startDevServer } from './dev-server';

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

  it('becomes one --dynamic-config-value flag per key, dev-server-only settings last', () => {
    expect(devServerDynamicConfigArgs()).toEqual(['--dynamic-config-value', 'history.transferProcessorMaxPollRPS=200']);
    expect(devServerDynamicConfigArgs({ 'matching.numTaskqueueWritePartitions': 1 })).toEqual([
      '--dynamic-config-value',
      'history.transferProcessorMaxPollRPS=200',
      '--dynamic-config-value',
      'matching.numTaskqueueWritePartitions=1',
    ]);
  });
});

describe('startDevServer on a port something already listens on', () => {
  const servers: Server[] = [];
  const listening = async (host: string) => {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return (server.address() as AddressInfo).port;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });
  // The CLI path does not exist: a refusal must come before anything is spawned.
  const options = { dataDir: tmpdir(), namespace: 'default', cliPath: '/nonexistent/temporal', logger: { info: () => undefined, warn: () => undefined, error: () => undefined } };

  it.each(['127.0.0.1', '0.0.0.0'])('refuses a frontend port taken on %s, and says what to set', async (host) => {
    const port = await listening(host);
    await expect(startDevServer({ ...options, port, uiPort: 0 })).rejects.toThrow(`the Temporal dev server's port ${port} on 127.0.0.1 is already in use (another Hookline, or a Temporal dev server?). Set HOOKLINE_TEMPORAL_PORT to a free port, or TEMPORAL_ADDRESS=127.0.0.1:${port} to use the Temporal that is there.`);
  });

  it('refuses a Web UI port taken', async () => {
    const uiPort = await listening('127.0.0.1');
    await expect(startDevServer({ ...options, port: 0, uiPort })).rejects.toThrow(`the Temporal Web UI's port ${uiPort} on 127.0.0.1 is already in use`);
  });

  it('waits, when asked, for a port that a stopped server is still releasing', async () => {
    const port = await listening('127.0.0.1');
    await expect(requirePortFree(port, 'a', 'X')).rejects.toThrow(`a port ${port} on 127.0.0.1 is already in use`);
    const released = new Promise((resolve) => setTimeout(resolve, 300)).then(() => new Promise((resolve) => servers.pop()!.close(resolve)));
    await requirePortFree(port, 'a', 'X', '', 5_000);
    await released;
    const stillTaken = await listening('127.0.0.1');
    const started = Date.now();
    await expect(requirePortFree(stillTaken, 'a', 'X', '', 300)).rejects.toThrow('already in use');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});

describe('devServerPartitionConfig', () => {
  const single = { 'matching.numTaskqueueReadPartitions': 1, 'matching.numTaskqueueWritePartitions': 1 };
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-partitions-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives a new database one partition, and keeps it once the marker is written', () => {
    const db = join(dir, 'temporal.sqlite');
    expect(devServerPartitionConfig(db)).toEqual(single);
    // What startDevServer does once the server has created the database.
    writeFileSync(db, 'the server created it');
    writeFileSync(partitionMarker(db), '1\n');
    expect(devServerPartitionConfig(db)).toEqual(single);
  });

  it('lets a database from before the marker read all four partitions (draining them) and write to one', () => {
    const db = join(dir, 'temporal.sqlite');
    writeFileSync(db, 'created with 4 partitions');
    expect(devServerPartitionConfig(db)).toEqual({ 'matching.numTaskqueueWritePartitions': 1 });
    expect(existsSync(partitionMarker(db))).toBe(false);
  });

  it('gives an in-memory server one partition', () => {
    expect(devServerPartitionConfig(undefined)).toEqual(single);
  });
});

describe('findTemporalCli', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A file named `temporal` under `sub`, executable or not. */
  const cli = (sub: string, executable = true) => {
    mkdirSync(join(dir, sub), { recursive: true });
    const path = join(dir, sub, 'temporal');
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, executable ? 0o755 : 0o644);
    return path;
  };

  it('takes TEMPORAL_CLI_PATH, then the pinned build, then the first executable `temporal` on PATH', () => {
    const project = join(dir, 'project');
    const searchPath = [join(dir, 'empty'), join(dir, 'plain'), join(dir, 'usr-bin'), join(dir, 'later')].join(delimiter);
    cli('plain', false);
    expect(findTemporalCli(undefined, project, searchPath)).toBeUndefined();
    const onPath = cli('usr-bin');
    cli('later');
    expect(findTemporalCli(undefined, project, searchPath)).toBe(onPath);
    const pinned = cli('project/.tools/bin');
    expect(findTemporalCli(undefined, project, searchPath)).toBe(pinned);
    expect(findTemporalCli('/opt/temporal', project, searchPath)).toBe('/opt/temporal');
  });
});
