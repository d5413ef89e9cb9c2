/**
 * The runner leak check of the root hooks (spec/support/hooks.ts). Called directly, it names
 * and stops a runner left running and lets a stopped one pass; and a child mocha run of
 * leak-fixture.ts shows it failing exactly the tests that leak, without spilling into the
 * tests after them, and failing the run for a block's runner that no after hook stopped.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ScheduleRunner, TaskQueueRunner, TaskStore } from '../../lib/index.js';
import { RunnerRegistry, checkRunnerLeaks, runnersStartedInThisTest } from './hooks.js';

const MOCHA = fileURLToPath(new URL('../../../node_modules/mocha/bin/mocha.js', import.meta.url));
const HOOKS = fileURLToPath(new URL('./hooks.js', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./leak-fixture.js', import.meta.url));

interface JsonTest {
  title: string;
  fullTitle: string;
  err: { message?: string };
}

interface JsonReport {
  failures: JsonTest[];
  passes: JsonTest[];
}

/** Runs leak-fixture.js in a child mocha with only the root hooks; resolves with its exit code and JSON report. */
async function runFixture(): Promise<{ code: number | null; report: JsonReport; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'taskstore-leak-check-'));
  const output = join(dir, 'report.json');
  try {
    const args = [
      MOCHA,
      '--no-config',
      '--no-package',
      '--require',
      HOOKS,
      '--reporter',
      'json',
      '--reporter-option',
      `output=${output}`,
      FIXTURE,
    ];
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, args, { timeout: 50_000 }, (error, _stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr });
      });
    });
    const json = await readFile(output, 'utf8').catch((error: unknown) => {
      throw new Error(`the child mocha wrote no report (exit ${code}): ${String(error)}\n${stderr}`);
    });
    return { code, report: JSON.parse(json) as JsonReport, stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('runner leak check', function () {
  let store: TaskStore;

  before(async function () {
    store = await TaskStore.open({ database: 'sqlite::memory:' });
  });
  after(async function () {
    await store.close();
  });

  it('registers every runner a test starts, of both kinds, and no runner it only creates', async function () {
    const queueRunner = new TaskQueueRunner(store, { queueName: 'registered', intervalSeconds: 60 });
    const scheduleRunner = new ScheduleRunner(store, { intervalSeconds: 60 });
    new TaskQueueRunner(store, { queueName: 'never-started' });
    queueRunner.start();
    scheduleRunner.start();
    try {
      expect(runnersStartedInThisTest()).to.have.members([queueRunner, scheduleRunner]);
    } finally {
      await queueRunner.stop();
      await scheduleRunner.stop();
    }
  });

  it('reports each runner left running with its kind, queue and start, and stops it', async function () {
    const registry = new RunnerRegistry();
    const queueRunner = new TaskQueueRunner(store, { queueName: 'left-running', intervalSeconds: 60 });
    const scheduleRunner = new ScheduleRunner(store, { intervalSeconds: 60 });
    queueRunner.start();
    scheduleRunner.start();
    registry.add(queueRunner, 'dist/spec/a.spec.js:1:1');
    registry.add(scheduleRunner, 'dist/spec/b.spec.js:2:2');

    const leak = await checkRunnerLeaks(registry, 'the test "T"');

    expect(leak?.message)
      .to.include('the test "T" left 2 runner(s) running')
      .and.include("TaskQueueRunner for queue 'left-running', started at dist/spec/a.spec.js:1:1")
      .and.include('ScheduleRunner, started at dist/spec/b.spec.js:2:2');
    expect([queueRunner.isRunning(), scheduleRunner.isRunning()], 'stopped by the check').to.deep.equal([false, false]);
    expect(registry.runners(), 'forgotten by the check').to.deep.equal([]);
  });

  it('lets stopped and never-started runners pass', async function () {
    const registry = new RunnerRegistry();
    const stopped = new ScheduleRunner(store, { intervalSeconds: 60 });
    stopped.start();
    await stopped.stop();
    registry.add(stopped);
    registry.add(new TaskQueueRunner(store, { queueName: 'never-started' }));
    expect(await checkRunnerLeaks(registry, 'the test "T"')).to.equal(undefined);
    expect(registry.runners()).to.deep.equal([]);
  });

  it('fails exactly the tests that leave a runner running, and the run for a block runner nothing stopped', async function () {
    this.timeout(60_000);
    const { code, report, stderr } = await runFixture();
    const failures = report.failures.map((failure) => failure.title);
    expect(failures, stderr).to.deep.equal([
      'leaves a TaskQueueRunner and a ScheduleRunner running',
      'fails on its own while its runner runs',
      '"after all" hook: afterAll in "{root}"',
    ]);
    expect(code, 'exit code: the number of failures').to.equal(3);

    const [leaking, failing, suiteLevel] = report.failures.map((failure) => failure.err.message ?? '');
    expect(leaking)
      .to.include('runner leak: the test "leak fixture leaves a TaskQueueRunner and a ScheduleRunner running" left 2 runner(s) running')
      .and.include("TaskQueueRunner for queue 'forgotten', started at dist/spec/support/leak-fixture.js:")
      .and.include('ScheduleRunner, started at dist/spec/support/leak-fixture.js:');
    expect(failing, 'a test that failed on its own gets no second failure').to.equal('a failure of its own');
    expect(suiteLevel)
      .to.include('runner leak: a before/after hook (a runner for a whole describe block) left 1 runner(s) running')
      .and.include('ScheduleRunner, started at dist/spec/support/leak-fixture.js:');

    const passed = report.passes.map((test) => test.title);
    expect(passed).to.include.members([
      'runs next, and finds the leaked runner stopped by the check',
      'stops the runner it starts',
      'sees it running in the first test',
      'and still in the second',
      'passes',
    ]);
  });
});
