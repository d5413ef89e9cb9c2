/**
 * The package as a user gets it: `npm pack` of this checkout's build (dist/ as it is; run
 * `npm run build` first), installed from the tarball into a fresh project together with
 * TypeScript 5.0 and @types/node, once for the whole file (npm needs the registry or its
 * cache; installing compiles better-sqlite3 where no prebuilt binary can be fetched, so the
 * set-up may take a few minutes). Then: the install has nothing of taskstore's to build, the
 * source maps carry their sources, Node resolves every export, the declarations catch the
 * mistakes in consumer/types-check.ts under `tsc --strict` on TypeScript 5.0 and on this
 * repository's TypeScript, and the knex CLI runs the migrations of `taskstore/migrations`
 * from a knexfile of the project's own, on every dialect. Its optional peer @opentelemetry/api
 * is not installed there: everything but taskstore/otel loads without it.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { MIGRATION_NAMES, forEachDialect } from '../support/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CONSUMER = join(ROOT, 'spec', 'package', 'consumer');
const REPO_TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const SET_UP_MS = 15 * 60_000;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; npm's own npm_* variables stay out, so a nested npm behaves as a user's would. */
function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Result> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: { ...env, ...options.env }, timeout: options.timeoutMs ?? SET_UP_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr: error !== null && code === 1 && stderr === '' ? String(error) : stderr });
      },
    );
  });
}

function mustSucceed(what: string, result: Result): Result {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}

interface ConsumerProject {
  readonly dir: string;
  /** What `npm install <tarball>` printed, stdout and stderr. */
  readonly installLog: string;
}

let project: Promise<ConsumerProject> | undefined;

/** The consumer project, made once per mocha process. */
function consumerProject(): Promise<ConsumerProject> {
  project ??= makeConsumerProject();
  return project;
}

async function makeConsumerProject(): Promise<ConsumerProject> {
  const dir = await mkdtemp(join(tmpdir(), 'taskstore-package-'));
  // --ignore-scripts: pack the build as it is, not a rebuild (prepack) under the running specs.
  const packed = mustSucceed(
    'npm pack',
    await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT }),
  );
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'taskstore-consumer', private: true, type: 'module' }, null, 2));
  for (const file of ['tsconfig.json', 'types-check.ts', 'knexfile.mjs']) await copyFile(join(CONSUMER, file), join(dir, file));
  const install = mustSucceed(
    'npm install',
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `./${filename}`, '@types/node@20', 'typescript@5.0'], {
      cwd: dir,
    }),
  );
  return { dir, installLog: `${install.stdout}\n${install.stderr}` };
}

after(async function () {
  const made = await project?.catch(() => undefined);
  if (made) await rm(made.dir, { recursive: true, force: true });
});

async function filesUnder(dir: string, suffix: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith(suffix)).map((entry) => join(entry.parentPath, entry.name));
}

describe('the packed package', function () {
  let consumer: ConsumerProject;
  const installed = () => join(consumer.dir, 'node_modules', 'taskstore');

  before(async function () {
    this.timeout(SET_UP_MS);
    consumer = await consumerProject();
  });

  it('installs from the tarball with nothing of its own to build: no install-time script for npm to warn about', async function () {
    expect(consumer.installLog).to.not.match(/taskstore@\S+ \(/);
    expect(consumer.installLog).to.not.match(/prepare/);
    const manifest = JSON.parse(await readFile(join(installed(), 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    const installTime = ['preinstall', 'install', 'postinstall', 'prepare'].filter((name) => manifest.scripts?.[name] !== undefined);
    expect(installTime).to.deep.equal([]);
    expect(await filesUnder(join(installed(), 'dist', 'lib'), 'index.js')).to.include(join(installed(), 'dist', 'lib', 'index.js'));
  });

  it('ships each source map with the sources it points to', async function () {
    const maps = await filesUnder(join(installed(), 'dist'), '.js.map');
    expect(maps.length).to.be.greaterThan(50);
    const incomplete: string[] = [];
    for (const path of maps) {
      const map = JSON.parse(await readFile(path, 'utf8')) as { sources: string[]; sourcesContent?: unknown[] };
      const complete =
        map.sources.length > 0 &&
        map.sourcesContent?.length === map.sources.length &&
        map.sourcesContent.every((text) => typeof text === 'string' && text.length > 0);
      if (!complete) incomplete.push(path.slice(installed().length));
    }
    expect(incomplete, 'maps without sourcesContent').to.deep.equal([]);
  });

  it('resolves taskstore, taskstore/admin, taskstore/testing and taskstore/migrations in Node', async function () {
    const script = `
      const entries = {};
      for (const name of ['taskstore', 'taskstore/admin', 'taskstore/testing', 'taskstore/migrations']) entries[name] = Object.keys(await import(name)).sort();
      console.log(JSON.stringify(entries));`;
    const result = mustSucceed('node', await run(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer.dir }));
    const entries = JSON.parse(result.stdout) as Record<string, string[]>;
    expect(entries['taskstore']).to.include.members(['TaskStore', 'defineTask', 'TaskQueueRunner', 'ScheduleRunner']);
    expect(entries['taskstore/admin']).to.include('createAdminHandler');
    expect(entries['taskstore/migrations']).to.deep.equal(['createMigrationSource']);
    expect(entries['taskstore/testing']).to.deep.equal(['assertEnqueued', 'createTestStore', 'drain', 'refuteEnqueued']);
  });

  it('loads without @opentelemetry/api (an optional peer npm does not install); only taskstore/otel asks for it', async function () {
    const script = `
      try { await import('@opentelemetry/api'); console.log('api present'); } catch { console.log('api absent'); }
      await import('taskstore');
      try { await import('taskstore/otel'); console.log('otel loaded'); } catch (error) { console.log(error.code, error.message); }`;
    const result = mustSucceed('node', await run(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer.dir }));
    const [api, otel] = result.stdout.trim().split('\n');
    expect(api).to.equal('api absent');
    expect(otel).to.match(/^ERR_MODULE_NOT_FOUND .*'@opentelemetry\/api'/);
  });

  for (const [label, tsc] of [
    ['TypeScript 5.0', () => join(consumer.dir, 'node_modules', 'typescript', 'bin', 'tsc')],
    ["this repository's TypeScript", () => REPO_TSC],
  ] as const) {
    it(`its declarations compile under tsc --strict and catch every mistake in types-check.ts, on ${label}`, async function () {
      this.timeout(5 * 60_000);
      const version = mustSucceed('tsc -v', await run(process.execPath, [tsc(), '-v'], { cwd: consumer.dir }));
      if (label === 'TypeScript 5.0') expect(version.stdout).to.match(/^Version 5\.0\./);
      const result = await run(process.execPath, [tsc(), '-p', '.', '--strict', '--noEmit'], { cwd: consumer.dir });
      expect(result.code, `${version.stdout}${result.stdout}${result.stderr}`).to.equal(0);
    });
  }
});

forEachDialect('the knex CLI with taskstore/migrations, from the installed package', (t) => {
  let consumer: ConsumerProject;
  const tables = ['app_task_definition', 'app_task_queue', 'app_task_schedule'];
  const knex = (...args: string[]) =>
    run(join(consumer.dir, 'node_modules', '.bin', 'knex'), [...args, '--knexfile', 'knexfile.mjs'], {
      cwd: consumer.dir,
      env: { KNEXFILE_DATABASE_URL: t.url },
      timeoutMs: 120_000,
    });
  const tablesExist = () => Promise.all(tables.map((name) => t.store.knex.schema.hasTable(name)));

  before(async function () {
    this.timeout(SET_UP_MS);
    consumer = await consumerProject();
  });

  it('migrate:latest creates the tables named in createMigrationSource, and migrate:rollback --all drops them', async function () {
    this.timeout(120_000);
    expect(await tablesExist()).to.deep.equal([false, false, false]);
    const latest = await knex('migrate:latest');
    expect(latest.code, latest.stdout + latest.stderr).to.equal(0);
    expect(latest.stdout).to.include(`Batch 1 run: ${MIGRATION_NAMES.length} migrations`);
    expect(await tablesExist()).to.deep.equal([true, true, true]);
    const recorded = await t.store.knex('app_task_queue_knex_migrations').orderBy('id').pluck('name');
    expect(recorded).to.deep.equal(MIGRATION_NAMES);

    // The same schema as TaskStore.open makes: nothing left for migrateUp, and the store works on it.
    const store = await t.openStore({
      taskDefinitionTableName: tables[0],
      taskQueueTableName: tables[1],
      scheduleTableName: tables[2],
    });
    expect(await store.migrateUp()).to.deep.equal([]);
    await store.taskDefinitionCreate({ alias: 'FromKnexCli' });
    expect((await store.taskDefinitionEnqueueByAlias('', 'FromKnexCli', { n: 1 })).parameters).to.deep.equal({
      n: 1,
      task_alias: 'FromKnexCli',
    });

    expect((await knex('migrate:latest')).stdout).to.match(/Already up to date/);
    const rollback = await knex('migrate:rollback', '--all');
    expect(rollback.code, rollback.stdout + rollback.stderr).to.equal(0);
    expect(rollback.stdout).to.include(`rolled back: ${MIGRATION_NAMES.length} migrations`);
    expect(await tablesExist()).to.deep.equal([false, false, false]);
  });
});
