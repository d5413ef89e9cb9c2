/**
 * Opening a store on a database it cannot use rejects with DATABASE and writes nothing to the
 * console: knex's own "Acquire connection error" (with its stack) goes to the store's logger
 * as a debug line, or nowhere with the default silent logger.
 */
import { expect } from 'chai';
import { TaskStore } from '../../lib/index.js';
import type { Logger } from '../../lib/index.js';
import { expectError, forEachDialect } from '../support/index.js';
import { unusableDatabases, type UnusableDatabase } from '../support/unusable-databases.js';

/** Runs `action` with every process.stdout/stderr write captured (console.* included); resolves them. */
async function capturingConsole(action: () => Promise<unknown>): Promise<string[]> {
  const written: string[] = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    }) as typeof stream.write;
  }
  try {
    await action();
  } finally {
    streams.forEach((stream, index) => (stream.write = originals[index] as typeof stream.write));
  }
  return written;
}

function recordingLogger(): { logger: Logger; lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const record = (level: string) => (message: string) => void lines.push({ level, message });
  return { logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') }, lines };
}

forEachDialect('TaskStore.open on a database it cannot use', (t) => {
  let unusable: UnusableDatabase[];
  before(async () => {
    unusable = await unusableDatabases(t.dialect, t.url);
  });

  it('rejects with DATABASE; a custom logger gets debug lines only, and the console nothing', async function () {
    this.timeout(120_000);
    for (const { what, url } of unusable) {
      const { logger, lines } = recordingLogger();
      const written = await capturingConsole(() => expectError(() => TaskStore.open({ database: url, logger }), 'DATABASE'));
      expect(written, `console output with ${what}`).to.deep.equal([]);
      expect(
        lines.filter((line) => line.level !== 'debug'),
        `logger lines above debug with ${what}`,
      ).to.deep.equal([]);
    }
  });

  it('with the default logger, writes nothing to the console either', async function () {
    this.timeout(120_000);
    for (const { what, url } of unusable) {
      const written = await capturingConsole(() => expectError(() => TaskStore.open({ database: url }), 'DATABASE'));
      expect(written, `console output with ${what}`).to.deep.equal([]);
    }
  });

  it("hands knex's acquire error to the custom logger as a debug line", async function () {
    const [first] = unusable;
    const { logger, lines } = recordingLogger();
    await capturingConsole(() => expectError(() => TaskStore.open({ database: first!.url, logger }), 'DATABASE'));
    expect(lines.map((line) => `${line.level} ${line.message}`).join('\n')).to.match(/^debug knex: Acquire connection error/m);
  });
});
