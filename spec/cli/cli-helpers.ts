/**
 * Spawning the built `taskstore` bin (dist/lib/cli/main.js) for the CLI specs: run to the
 * end, or start a long-running command and wait for its output with a bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../lib/cli/main.js', import.meta.url));
const LIBRARY = new URL('../../lib/index.js', import.meta.url).href;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** An environment without the developer's TASKSTORE_* settings. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('TASKSTORE_')) delete env[key];
  return { ...env, ...extra };
}

export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = startCli(args, options);
  return child.done(options.timeoutMs ?? 30_000);
}

export interface RunningCli {
  readonly process: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves once stdout matches, failing after `timeoutMs` or when the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the result once the process exits (kills it after `timeoutMs`). */
  done(timeoutMs?: number): Promise<CliResult>;
}

export function startCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? tmpdir(),
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    async waitForOutput(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = stdout.match(pattern);
        if (match) return match;
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `the CLI exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`,
          );
        }
        if (Date.now() > deadline)
          throw new Error(`the CLI did not print ${pattern} within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async done(timeoutMs = 30_000) {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        const result = await exited;
        if (result.signal === 'SIGKILL')
          throw new Error(`the CLI did not exit within ${timeoutMs} ms\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
        return result;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** A temp folder with a handlers module `tasks.mjs` (handlers Echo, Fail, Slow). */
export async function handlersFixture(): Promise<{ dir: string; path: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'taskstore-cli-'));
  const path = join(dir, 'tasks.mjs');
  await writeFile(
    path,
    `import { defineTask, PermanentError } from ${JSON.stringify(LIBRARY)};
export const echo = defineTask({
  alias: 'Echo',
  async handle(ctx) {
    await ctx.logInfo('echo ' + JSON.stringify(ctx.params));
    ctx.setOutput('value=' + ctx.getParam('value'));
  },
});
export default [
  defineTask({ alias: 'Fail', async handle() { throw new PermanentError('failing on purpose'); } }),
];
`,
  );
  return { dir, path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** True when the text has no stack trace lines. */
export function hasNoStack(text: string): boolean {
  return !/^\s+at .+\(.+:\d+:\d+\)$/m.test(text) && !/^\s+at /m.test(text);
}
