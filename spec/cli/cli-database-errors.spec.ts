/**
 * The CLI against a database it cannot use, on every dialect: a port nobody listens on, an
 * unknown user, a database that does not exist, no database name (MySQL), a SQLite file in a
 * missing directory. Each is one line on stderr and nothing on stdout, exit code 1; with
 * --json that line is a JSON object, and stdout stays empty.
 */
import { expect } from 'chai';
import { forEachDialect } from '../support/index.js';
import { unusableDatabases, type UnusableDatabase } from '../support/unusable-databases.js';
import { hasNoStack, runCli, type CliResult } from './cli-helpers.js';

/** Exactly one line on stderr, nothing on stdout, exit 1. */
function expectOneLineFailure(result: CliResult, label: string): string {
  const context = `${label}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  expect(result.code, context).to.equal(1);
  expect(result.stdout, context).to.equal('');
  expect(result.stderr, context).to.match(/^[^\n]+\n$/);
  expect(hasNoStack(result.stderr), context).to.equal(true);
  return result.stderr.trimEnd();
}

forEachDialect('taskstore CLI on a database it cannot use', (t) => {
  let unusable: UnusableDatabase[];
  before(async () => {
    unusable = await unusableDatabases(t.dialect, t.url);
  });

  it('prints the one-line error on stderr, nothing on stdout, and exits 1', async function () {
    this.timeout(120_000);
    for (const { what, url } of unusable) {
      for (const command of ['list', 'migrate']) {
        const line = expectOneLineFailure(await runCli([command, '--database', url]), `${command} with ${what}`);
        expect(line, `${command} with ${what}`).to.match(/^taskstore: (connect|migrateUp) failed: \S/);
        expect(line).to.not.match(/Acquire connection error|knex:/);
      }
    }
  });

  it('with --json, the error is one JSON object on stderr and stdout stays empty', async function () {
    this.timeout(120_000);
    for (const { what, url } of unusable) {
      for (const args of [
        ['list', '--json'],
        ['--json', 'stats'],
      ]) {
        const label = `${args.join(' ')} with ${what}`;
        const line = expectOneLineFailure(await runCli([...args, '--database', url]), label);
        const parsed = JSON.parse(line) as { error: { code: string; message: string } };
        expect(parsed.error.code, label).to.equal('DATABASE');
        expect(parsed.error.message, label).to.match(/^(connect|migrateUp) failed: \S/);
      }
    }
  });
});
