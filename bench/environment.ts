/**
 * What a result file records about the machine and the software measured, so numbers from
 * different runs are never compared without seeing that they came from different places.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo root, whether this runs as dist/bench/*.js or as bench/*.ts. */
export function repoRoot(): string {
  const benchDir = dirname(fileURLToPath(import.meta.url));
  const parent = dirname(benchDir);
  return basename(parent) === 'dist' ? dirname(parent) : parent;
}

/** The installed version of a dependency, read from its package.json under node_modules. */
export function packageVersion(name: string): string {
  try {
    const text = readFileSync(resolve(repoRoot(), 'node_modules', name, 'package.json'), 'utf8');
    const parsed = JSON.parse(text) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : 'unknown';
  } catch {
    return 'not installed';
  }
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
