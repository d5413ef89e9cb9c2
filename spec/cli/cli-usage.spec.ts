/**
 * CLI behaviour that needs no particular database: help, usage errors and their exit codes,
 * the database option and environment variable, and the demo and dashboard commands on SQLite.
 */
import { expect } from 'chai';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawRequest } from '../admin/admin-helpers.js';
import { hasNoStack, runCli, startCli } from './cli-helpers.js';

describe('taskstore CLI: usage, errors and long-running commands', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskstore-cli-usage-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints help with every command; without a command, the usage goes to stderr with exit code 2', async () => {
    const help = await runCli(['--help'], { cwd: dir });
    expect(help.code).to.equal(0);
    for (const command of [
      'migrate',
      'definitions',
      'enqueue',
      'list',
      'show',
      'stats',
      'retry',
      'cancel',
      'purge',
      'run',
      'work',
      'dashboard',
      'demo',
    ]) {
      expect(help.stdout).to.match(new RegExp(`^  ${command}\\s`, 'm'));
    }
    const bare = await runCli([], { cwd: dir });
    expect(bare.code, 'a bare taskstore is a usage error').to.equal(2);
    expect(bare.stdout).to.equal('');
    expect(bare.stderr).to.match(/^usage: taskstore <command>/);
    expect(bare.stderr).to.match(/^ {2}list\s/m);
    const listHelp = await runCli(['list', '--help'], { cwd: dir });
    expect(listHelp.code).to.equal(0);
    expect(listHelp.stdout).to.match(/usage: taskstore list/);
    expect(listHelp.stdout).to.match(/^usage: taskstore list .*\[--offset n\]/);
    expect(listHelp.stdout).to.match(/^ {2}--offset\s+skip this many/m);
  });

  it('unknown commands and options are usage errors in one line, without a stack', async () => {
    const unknown = await runCli(['frobnicate'], { cwd: dir });
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.equal("taskstore: unknown command 'frobnicate' (see taskstore --help)\n");
    const option = await runCli(['list', '--bogus'], { cwd: dir });
    expect(option.code).to.equal(2);
    expect(option.stderr).to.equal("taskstore: unknown option '--bogus' (see taskstore list --help)\n");
    expect(hasNoStack(option.stderr)).to.equal(true);
  });

  it('uses --database, else TASKSTORE_DATABASE_URL, else ./taskstore.db', async () => {
    expect((await runCli(['migrate'], { cwd: dir })).code).to.equal(0);
    await stat(join(dir, 'taskstore.db'));
    expect((await runCli(['migrate'], { cwd: dir, env: { TASKSTORE_DATABASE_URL: 'sqlite:./from-env.db' } })).code).to.equal(0);
    await stat(join(dir, 'from-env.db'));
    expect(
      (
        await runCli(['--database', 'sqlite:./from-option.db', 'migrate'], {
          cwd: dir,
          env: { TASKSTORE_DATABASE_URL: 'sqlite:./ignored.db' },
        })
      ).code,
    ).to.equal(0);
    await stat(join(dir, 'from-option.db'));
    const bad = await runCli(['stats', '--database', 'oracle://nope'], { cwd: dir });
    expect(bad.code).to.equal(2);
    expect(bad.stderr.trim().split('\n')).to.have.length(1);
    expect(hasNoStack(bad.stderr)).to.equal(true);
  });

  it('an empty or blank TASKSTORE_DATABASE_URL means the default ./taskstore.db, as in the library', async () => {
    for (const value of ['', '   ']) {
      const result = await runCli(['migrate'], { cwd: dir, env: { TASKSTORE_DATABASE_URL: value } });
      expect(result.code, result.stderr).to.equal(0);
      await stat(join(dir, 'taskstore.db'));
      await rm(join(dir, 'taskstore.db'));
    }
  });

  it('demo uses ./taskstore-demo.db when TASKSTORE_DATABASE_URL is blank', async function () {
    this.timeout(30_000);
    const child = startCli(['demo', '--no-dashboard'], { cwd: dir, env: { TASKSTORE_DATABASE_URL: ' ' } });
    try {
      const [, database] = await child.waitForOutput(/taskstore demo on sqlite \((.*)\)/);
      expect(database).to.equal('sqlite:./taskstore-demo.db');
    } finally {
      child.process.kill('SIGINT');
    }
    expect((await child.done(20_000)).code).to.equal(0);
    await stat(join(dir, 'taskstore-demo.db'));
  });

  it('a database that cannot be reached is a runtime error (1) in one line', async () => {
    const result = await runCli(['stats', '--database', 'postgres://nobody@127.0.0.1:1/none'], { cwd: dir });
    expect(result.code).to.equal(1);
    expect(result.stderr.trim().split('\n')).to.have.length(1);
    expect(hasNoStack(result.stderr)).to.equal(true);
  });

  it('demo runs example tasks with the dashboard and exits 0 on SIGINT', async function () {
    this.timeout(60_000);
    const child = startCli(['demo', '--port', '0', '--database', `sqlite:${join(dir, 'demo.db')}`], { cwd: dir });
    try {
      const [, url] = await child.waitForOutput(/dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/);
      await child.waitForOutput(/success\s+HelloWorldTask/);
      const response = await fetch(url!);
      expect(response.status).to.equal(200);
      expect(await response.text()).to.include('<h1>Overview</h1>');
      const stats = (await (await fetch(`${url}api/stats`)).json()) as { queues: { queueName: string }[] };
      expect(stats.queues.map((queue) => queue.queueName)).to.include.members(['default', 'emails']);
    } finally {
      child.process.kill('SIGINT');
    }
    const result = await child.done(30_000);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/demo stopped: \d+ succeeded/);
  });

  it('dashboard serves the dashboard until SIGTERM', async function () {
    this.timeout(30_000);
    const child = startCli(['dashboard', '--port', '0', '--database', `sqlite:${join(dir, 'dash.db')}`], { cwd: dir });
    try {
      const [, url] = await child.waitForOutput(/dashboard on (http:\/\/127\.0\.0\.1:\d+\/)/);
      const response = await fetch(`${url}api/stats`);
      expect(response.status).to.equal(200);
      expect(((await response.json()) as { totals: Record<string, number> }).totals).to.include({ queued: 0 });
    } finally {
      child.process.kill('SIGTERM');
    }
    const result = await child.done(20_000);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include('dashboard stopped');
  });

  it('dashboard answers only to loopback names and --allowed-host names (421 otherwise); a bad name is a usage error', async function () {
    this.timeout(30_000);
    const database = `sqlite:${join(dir, 'hosts.db')}`;
    const child = startCli(['dashboard', '--port', '0', '--allowed-host', 'tasks.example.test', '--database', database], { cwd: dir });
    try {
      const [, url] = await child.waitForOutput(/dashboard on (http:\/\/127\.0\.0\.1:\d+\/)/);
      const status = async (host: string) => (await rawRequest(`${url}api/queues`, { headers: { Host: host } })).status;
      expect(await status('tasks.example.test:3000')).to.equal(200);
      expect(await status('localhost')).to.equal(200);
      expect(await status('rebound.example.test')).to.equal(421);
    } finally {
      child.process.kill('SIGTERM');
    }
    expect((await child.done(20_000)).code).to.equal(0);
    const bad = await runCli(['dashboard', '--port', '0', '--allowed-host', 'tasks.example.test:80', '--database', database], { cwd: dir });
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include("--allowed-host: 'tasks.example.test:80' is not a host name");
  });
});
