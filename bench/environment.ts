/**
 * What a result file records about the machine and the software measured, so numbers from
 * different runs are never compared without seeing that they came from different places.
 */
import { readFileSync } from 'node:fs';
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
