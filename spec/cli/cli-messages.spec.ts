/**
 * The CLI's messages: argument mistakes in its own one-line style (never node:util
 * parseArgs' text), numeric ranges as the library enforces them, enqueue parameters that are
 * not an object, errors as JSON with --json, a handlers module that fails to load, and the
 * dashboard's 403 naming the command's own flags. On SQLite in a temp folder: none of this
 * depends on the database.
 */
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasNoStack, runCli, startCli, type CliResult } from './cli-helpers.js';

/** One line on stderr, nothing on stdout. */
function expectOneLine(result: CliResult, code: number, label: string): string {
  const context = `${label}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  expect(result.code, context).to.equal(code);
  expect(result.stdout, context).to.equal('');
  expect(result.stderr, context).to.match(/^[^\n]+\n$/);
  expect(hasNoStack(result.stderr), context).to.equal(true);
  return result.stderr.trimEnd();
}

describe('taskstore CLI: messages', () => {
  let dir: string;
  const cli = (...args: string[]) => runCli(args, { cwd: dir });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskstore-cli-messages-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("says what is wrong with the arguments in its own words, not node:util's", async () => {
    const cases: [string[], string][] = [
      [['list', '--bogus'], "taskstore: unknown option '--bogus' (see taskstore list --help)"],
      [['stats', '-x'], "taskstore: unknown option '-x' (see taskstore stats --help)"],
      [['definitions', '--bogus'], "taskstore: unknown option '--bogus' (see taskstore definitions --help)"],
      [['--bogus'], "taskstore: unknown option '--bogus' (see taskstore --help)"],
      [['list', '--limit'], 'taskstore: --limit needs a value (see taskstore list --help)'],
      [['list', '-n'], 'taskstore: -n needs a value (see taskstore list --help)'],
      [['list', '--deleted=yes'], "taskstore: --deleted takes no value (got 'yes')"],
      [['enqueue', 'A', '--queue', '--delay'], "taskstore: --queue needs a value; to give it '--delay', write --queue=--delay"],
      [['show', 'a', 'b'], "taskstore: unexpected argument 'b' (see taskstore show --help)"],
      [['show'], 'taskstore: missing the task id (see taskstore show --help)'],
      [['enqueue'], 'taskstore: missing the task alias (see taskstore enqueue --help)'],
      [['purge'], 'taskstore: purge needs --older-than (for example --older-than 7d) (see taskstore purge --help)'],
      [['work'], 'taskstore: work needs --handlers ./tasks.js (or TASKSTORE_HANDLERS) (see taskstore work --help)'],
    ];
    for (const [args, message] of cases) {
      const line = expectOneLine(await cli(...args), 2, args.join(' '));
      expect(line, args.join(' ')).to.equal(message);
      expect(line).to.not.match(/To specify|argument missing|ambiguous|Unknown option/);
    }
  });

  it('takes a negative number after an option name as its value', async () => {
    // Parsed and accepted by the library (no such definition is the only complaint).
    const result = await cli('enqueue', 'NoSuchAlias', '--priority', '-5');
    expect(result.code, result.stderr).to.equal(3);
    expect(result.stderr).to.equal("taskstore: no task definition with alias 'NoSuchAlias'\n");
  });

  it('states each numeric range as the library enforces it', async () => {
    await writeFile(join(dir, 'tasks.mjs'), 'export default [];\n');
    const cases: [string[], string][] = [
      [['enqueue', 'A', '--max-attempts', '1001'], '--max-attempts: 1001 is out of range (1..1,000)'],
      [['enqueue', 'A', '--max-attempts', '0'], '--max-attempts: 0 is out of range (1..1,000)'],
      [['enqueue', 'A', '--priority', '1000001'], '--priority: 1000001 is out of range (-1,000,000..1,000,000)'],
      [['enqueue', 'A', '--priority', '-1000001'], '--priority: -1000001 is out of range (-1,000,000..1,000,000)'],
      [['enqueue', 'A', '--priority', '99999999999999999999'], '--priority: 99999999999999999999 is out of range (-1,000,000..1,000,000)'],
      [['enqueue', 'A', '--priority', '1.5'], "--priority: '1.5' is not a whole number"],
      [['enqueue', 'A', '--delay', '3651d'], "--delay: '3651d' is too long (at most 3650d)"],
      [['list', '--limit', '10001'], '--limit: 10001 is out of range (1..10,000)'],
      [['list', '--offset', '2147483648'], '--offset: 2147483648 is out of range (0..2,147,483,647)'],
      [['list', '--offset', '-1'], '--offset: -1 is out of range (0..2,147,483,647)'],
      [['purge', '--older-than', '30000d'], "--older-than: '30000d' is too long (at most the time since 1970-01-01)"],
      [['work', '--handlers', './tasks.mjs', '--concurrency', '1001'], '--concurrency: 1001 is out of range (1..1,000)'],
      [
        ['work', '--handlers', './tasks.mjs', '--interval', '25d'],
        "--interval: '25d' is too long (at most 24d20h31m, a Node timer's limit)",
      ],
      [['work', '--handlers', './tasks.mjs', '--grace', '25d'], "--grace: '25d' is too long (at most 24d20h31m, a Node timer's limit)"],
      [['dashboard', '--port', '65536'], '--port: 65536 is out of range (0..65,535)'],
    ];
    for (const [args, message] of cases) {
      expect(expectOneLine(await cli(...args), 2, args.join(' ')), args.join(' ')).to.equal(`taskstore: ${message}`);
    }
    // The bounds themselves pass the CLI and the library: only the alias is unknown.
    const bounds = await cli('enqueue', 'NoSuchAlias', '--max-attempts', '1000', '--priority', '-1000000', '--delay', '3650d');
    expect(bounds.code, bounds.stderr).to.equal(3);
    const list = await cli('list', '--limit', '10000', '--offset', '2147483647');
    expect(list.code, list.stderr).to.equal(0);
  });

  it('enqueue --json with an array says the parameters must be a JSON object', async () => {
    const line = expectOneLine(await cli('enqueue', 'A', '--json', '[1,2]'), 2, 'enqueue --json [1,2]');
    expect(line).to.equal(`taskstore: --json: the parameters must be a JSON object, like '{"name":"Tom"}' (got an array)`);
  });

  it('with --json, an error is one JSON object on stderr and stdout stays empty', async () => {
    const cases: [string[], number, string, string][] = [
      [['list', '--bogus', '--json'], 2, 'USAGE', "unknown option '--bogus' (see taskstore list --help)"],
      [['--json'], 2, 'USAGE', 'missing the command (see taskstore --help)'],
      [['--json', 'frobnicate'], 2, 'USAGE', "unknown command 'frobnicate' (see taskstore --help)"],
      [['show', 'no-such-id', '--json'], 3, 'NOT_FOUND', "no task with id 'no-such-id'"],
      [['enqueue', 'NoSuchAlias', '--json'], 3, 'NOT_FOUND', "no task definition with alias 'NoSuchAlias'"],
      [['--json', 'stats', '--database', 'oracle://nope'], 2, 'INVALID_ARGUMENT', "unknown URL scheme 'oracle:'"],
    ];
    for (const [args, exitCode, code, message] of cases) {
      const line = expectOneLine(await cli(...args), exitCode, args.join(' '));
      const { error } = JSON.parse(line) as { error: { code: string; message: string } };
      expect(error.code, args.join(' ')).to.equal(code);
      expect(error.message, args.join(' ')).to.include(message);
    }
  });

  it('names a handlers module that throws while loading, exit 1', async () => {
    await writeFile(join(dir, 'broken.mjs'), "throw new Error('cannot reach the config service');\n");
    await writeFile(join(dir, 'typo.mjs'), 'export const x = ;\n');
    for (const args of [
      ['work', '--handlers', './broken.mjs'],
      ['run', 'Anything', '--handlers', './broken.mjs'],
    ]) {
      expect(expectOneLine(await cli(...args), 1, args.join(' '))).to.equal(
        'taskstore: could not load handlers module ./broken.mjs: cannot reach the config service',
      );
    }
    expect(expectOneLine(await cli('work', '--handlers', './typo.mjs'), 1, 'a syntax error')).to.match(
      /^taskstore: could not load handlers module \.\/typo\.mjs: SyntaxError: /,
    );
  });

  it("dashboard: the 403 for a request from another machine names the command's flags", async function () {
    this.timeout(30_000);
    const child = startCli(['dashboard', '--port', '0', '--database', `sqlite:${join(dir, 'dash.db')}`], { cwd: dir });
    try {
      const [, url] = await child.waitForOutput(/dashboard on (http:\/\/127\.0\.0\.1:\d+\/)/);
      const proxied = { 'X-Forwarded-For': '203.0.113.9' };
      const api = await fetch(`${url}api/stats`, { headers: proxied });
      expect(api.status).to.equal(403);
      const { message } = ((await api.json()) as { error: { message: string } }).error;
      expect(message).to.include('--read-only');
      expect(message).to.include('--allow-remote');
      expect(message).to.not.match(/createAdminHandler|readOnly: true|allowRemote: true/);
      const page = await fetch(url!, { headers: proxied });
      expect(page.status).to.equal(403);
      expect(await page.text()).to.include('--allow-remote');
    } finally {
      child.process.kill('SIGTERM');
    }
    expect((await child.done(20_000)).code).to.equal(0);
  });
});
