/**
 * What a result file records about the machine and the software measured, so numbers from
 * different runs are never compared without seeing that they came from different places.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repo root, whether this runs as bench/dist/bench/*.js or as bench/*.ts: the nearest folder
 * above this file whose package.json is the library's own (bench/ has a package.json of its own).
 */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const parsed = JSON.parse(readFileSync(resolve(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (parsed.name === 'taskstore') return dir;
    } catch {
      // no package.json here: keep climbing
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('bench: cannot find the taskstore package.json above the bench');
    dir = parent;
  }
}

/**
 * The installed version of a dependency, from the first node_modules Node would load it from:
 * bench/node_modules (the peers and their drivers), then the repository's (the library's).
 */
export function packageVersion(name: string): string {
  for (const modules of [resolve(repoRoot(), 'bench', 'node_modules'), resolve(repoRoot(), 'node_modules')]) {
    try {
      const parsed = JSON.parse(readFileSync(resolve(modules, name, 'package.json'), 'utf8')) as { version?: unknown };
      if (typeof parsed.version === 'string') return parsed.version;
    } catch {
      // not installed here: try the next folder
    }
  }
  return 'not installed';
}

export function machineDescription(): Record<string, string> {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown'}`,
    availableParallelism: String(os.availableParallelism()),
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
  };
}

/**
 * The median time of one fsync of a small write, in ms, in a scratch file under the repo. The
 * MySQL/MariaDB drain commits (and so flushes its log) per claim and per finishing batch, so
 * its rate follows this disk latency more than the CPU.
 */
export function fsyncMedianMs(samples = 100): string {
  const dir = resolve(repoRoot(), '.tmp', 'bench');
  const file = resolve(dir, `fsync-probe-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(file, 'w');
    const times: number[] = [];
    try {
      for (let i = 0; i < samples; i++) {
        writeSync(fd, 'x'.repeat(512));
        const started = performance.now();
        fsyncSync(fd);
        times.push(performance.now() - started);
      }
    } finally {
      closeSync(fd);
    }
    times.sort((a, b) => a - b);
    return (times[Math.floor(times.length / 2)] ?? 0).toFixed(2);
  } catch {
    return 'unknown';
  } finally {
    rmSync(file, { force: true });
  }
}
