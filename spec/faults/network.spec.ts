/**
 * A broken network between a runner and its database: the runner's store reaches the shared
 * server through a TCP proxy (spec/support/tcp-proxy.ts) that cuts, freezes (half-open) or
 * slows its connections; a second, healthy store reaches the server directly. The servers
 * themselves are never touched.
 *
 * SQLite has no network between a process and its database, so this file registers nothing
 * for it.
 *
 * Short form by default; TASKSTORE_FAULTS_LONG=1 drains more tasks, cuts more often and
 * freezes longer.
 */
import { expect } from 'chai';
import { TaskQueueRunner, defineTask } from '../../lib/index.js';
import type { TaskQueueItem, TaskStore, TaskStoreOptions } from '../../lib/index.js';
import {
  FAULTS_LONG,
  RunLedger,
  firstMessages,
  lockReport,
  report,
  stopWithin,
  watchUnhandledRejections,
} from '../support/fault-helpers.js';
import { detailMessages, forEachDialect, uniqueAlias, uniqueQueue, waitFor, within } from '../support/index.js';
import { recordEvents, sleep } from '../support/runner-helpers.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const CUTS = FAULTS_LONG ? { tasks: 2000, rounds: 20, gapMs: 150 } : { tasks: 300, rounds: 5, gapMs: 100 };
const FREEZE = FAULTS_LONG ? { tasks: 600, freezeMs: 30_000 } : { tasks: 200, freezeMs: 10_000 };
/** 0.05 minutes: a 3 s unstuck window, heartbeats every 0.75 s. */
const UNSTUCK_MINUTES = 0.05;

/**
 * What a claim sends, in the clear: PostgreSQL's claim is a named prepared statement (its name
 * travels with every execution), MySQL's claim selects its rows FOR UPDATE SKIP LOCKED.
 */
const CLAIM_PATTERNS = ['taskstore_claim', 'SKIP LOCKED'];
/**
 * The end of a claim: on MySQL the COMMIT after its SELECT … FOR UPDATE SKIP LOCKED and UPDATE
 * (the rows are running and locked by then, uncommitted); on PostgreSQL the one claim statement.
 */
const CLAIM_END = { patterns: ['taskstore_claim', 'COMMIT'], after: ['taskstore_claim', 'SKIP LOCKED'] };

forEachDialect('TaskQueueRunner through a broken network', (t) => {
  // SQLite has no network to break: this block registers tests for PostgreSQL and MySQL only.
  const dialect = t.dialect;
  if (dialect === 'sqlite') return;

  let proxy: TcpProxy;
  let queue: string;

  beforeEach(async function () {
    proxy = await TcpProxy.start({ port: Number(new URL(t.url).port) });
    queue = uniqueQueue();
  });

  afterEach(async function () {
    await proxy.close(); // each test closes it after its stores; this is for a test that failed early
  });

  /** A store on the shared server through the proxy. */
  // Deadlines short enough to show within a spec's freeze (the defaults are 30 s and 60 s).
  const openThroughProxy = (options: TaskStoreOptions = {}): Promise<TaskStore> =>
    t.openStore({ database: proxy.urlThrough(t.url), statementTimeoutMs: 3_000, idleTransactionTimeoutMs: 3_000, ...options });

  /** A definition for `alias` on the shared store, and a handler per store that notes its runs under `label`. */
  async function registerHandlers(
    alias: string,
    stores: { store: TaskStore; label: string }[],
    ledger: RunLedger,
    handle: (item: TaskQueueItem) => Promise<void>,
  ): Promise<void> {
    await t.store.taskHandlerAdd(defineTask({ alias, maxAttempts: 20, handle: () => undefined }), true);
    for (const { store, label } of stores) {
      await store.taskHandlerAdd(
        defineTask({
          alias,
          maxAttempts: 20,
          handle: async (ctx) => {
            ledger.note(ctx.task!.id, label);
            await handle(ctx.task!);
          },
        }),
      );
    }
  }

  /** Heals the network, stops the runners (bounded), closes the proxied stores, then the proxy. */
  /** A runner behind the proxy and a healthy peer on the same queue, sharing one handler alias and run ledger. */
  async function frozenAndHealthy(prefix: string) {
    const ledger = new RunLedger();
    const alias = uniqueAlias(prefix);
    const frozenStore = await openThroughProxy();
    const healthyStore = await t.openStore();
    const options = { queueName: queue, maxConcurrency: 4, intervalSeconds: 0.2, unstuckMinutes: UNSTUCK_MINUTES };
    const frozen = new TaskQueueRunner(frozenStore, options);
    const healthy = new TaskQueueRunner(healthyStore, options);
    const fillQueue = async (tasks: number): Promise<void> => {
      const stores = [
        { store: frozenStore, label: 'frozen' },
        { store: healthyStore, label: 'healthy' },
      ];
      await registerHandlers(alias, stores, ledger, () => sleep(50));
      await t.store.taskDefinitionEnqueueManyByAlias(
        queue,
        alias,
        Array.from({ length: tasks }, (_, index) => ({ index })),
      );
    };
    return { ledger, alias, frozenStore, frozen, healthy, fillQueue };
  }

  async function cleanUp(runners: TaskQueueRunner[], proxied: TaskStore[]): Promise<void> {
    proxy.heal();
    await Promise.allSettled(runners.map((runner) => stopWithin(runner, 20_000)));
    await Promise.allSettled(proxied.map((store) => within(store.close(), 20_000, 'closing a proxied store')));
    await proxy.close();
  }

  it('connections cut again and again mid-drain: every task succeeds and the runner keeps running', async function () {
    this.timeout(120_000);
    const unhandled = watchUnhandledRejections();
    const ledger = new RunLedger();
    const alias = uniqueAlias('Cut');
    const store = await openThroughProxy();
    const runner = new TaskQueueRunner(store, {
      queueName: queue,
      maxConcurrency: 4,
      prefetch: 8,
      intervalSeconds: 0.2,
      unstuckMinutes: UNSTUCK_MINUTES,
    });
    try {
      await registerHandlers(alias, [{ store, label: 'proxied' }], ledger, () => sleep(25));
      const items = await t.store.taskDefinitionEnqueueManyByAlias(
        queue,
        alias,
        Array.from({ length: CUTS.tasks }, (_, index) => ({ index })),
      );
      const events = recordEvents(runner);
      runner.start();
      await waitFor(() => ledger.size >= 30, { timeoutMs: 30_000, message: 'the drain under way' });

      const acceptedBefore = proxy.stats().accepted;
      let pairsCut = 0;
      for (let round = 0; round < CUTS.rounds; round += 1) {
        pairsCut += proxy.cut();
        await sleep(CUTS.gapMs);
      }
      const ranAtLastCut = ledger.size;
      expect(pairsCut, 'connections cut').to.be.at.least(1);
      expect(ranAtLastCut, 'the cuts landed before the drain finished').to.be.below(CUTS.tasks);

      const drainFrom = Date.now();
      await waitFor(async () => (await t.store.taskQueueCount({ queueName: queue, status: 'success' })) === CUTS.tasks, {
        timeoutMs: 90_000,
        intervalMs: 100,
        message: `all ${CUTS.tasks} tasks succeeded after the cuts`,
      });
      report(
        `${CUTS.rounds} cuts ended ${pairsCut} connections; ${proxy.stats().accepted - acceptedBefore} new connections since; ` +
          `drained ${Date.now() - drainFrom} ms after the last cut; ${ledger.extraRuns()} extra runs; ` +
          `${events.errors.length} 'error' events (${firstMessages(events.errors)})`,
      );

      expect(runner.isRunning(), 'the runner is still running').to.equal(true);
      expect(proxy.stats().accepted, 'the pool connected again after the cuts').to.be.greaterThan(acceptedBefore);
      const neverRan = items.filter((item) => ledger.runsOf(item.id) === 0).map((item) => item.id);
      expect(neverRan, 'tasks whose handler never ran').to.deep.equal([]);
      expect(await t.store.taskQueueCount({ queueName: queue, statuses: ['queued', 'running', 'failed'] })).to.equal(0);
      expect(unhandled(), 'unhandled rejections').to.deep.equal([]);
    } finally {
      unhandled();
      await cleanUp([runner], [store]);
    }
  });

  it(`a half-open network (frozen ${FREEZE.freezeMs / 1000} s): a healthy peer finishes the frozen runner's tasks, the frozen runner reports it and recovers`, async function () {
    this.timeout(FREEZE.freezeMs + 90_000);
    const unhandled = watchUnhandledRejections();
    const { ledger, alias, frozenStore, frozen, healthy, fillQueue } = await frozenAndHealthy('Freeze');
    try {
      await fillQueue(FREEZE.tasks);
      const frozenEvents = recordEvents(frozen);
      const healthyEvents = recordEvents(healthy);
      const frozenErrors: { at: number; error: Error }[] = [];
      frozen.on('error', (error) => void frozenErrors.push({ at: Date.now(), error }));
      const frozenDone = new Set<string>();
      const noteDone = (item: TaskQueueItem) => void frozenDone.add(item.id);
      frozen.on('task:success', noteDone);
      frozen.on('task:retry', noteDone);
      frozen.on('task:failure', noteDone);
      frozen.start();
      healthy.start();

      // freeze while the runner has handlers running
      await waitFor(() => frozenEvents.succeeded.length >= 10 && frozen.activeCount > 0, {
        timeoutMs: 30_000,
        intervalMs: 1,
        message: 'the runner behind the proxy busy',
      });
      proxy.freeze();
      const frozenAt = Date.now();
      const inFlight = frozenEvents.started.map((item) => item.id).filter((id) => !frozenDone.has(id));
      expect(inFlight.length, 'tasks in flight on the runner at the freeze').to.be.greaterThan(0);

      // its claims that had landed: running rows whose token no healthy claim gave out
      await sleep(500);
      const healthyTokens = () => new Set(healthyEvents.started.map((item) => item.claimToken));
      const runningRows = await t.store.taskQueueList({ queueName: queue, status: 'running', limit: 1000 });
      const pinned = runningRows.filter((row) => !healthyTokens().has(row.claimToken)).map((row) => row.id);

      const thawAt = frozenAt + FREEZE.freezeMs;
      const pinnedFinished = async () => {
        const rows = await t.store.taskQueueList({ ids: pinned, limit: 1000 });
        return rows.filter((row) => row.status === 'success' && ledger.runnersOf(row.id).includes('healthy')).length;
      };
      const untilThaw = async (condition: () => Promise<boolean> | boolean) => {
        while (Date.now() < thawAt - 200) {
          if (await condition()) return Date.now();
          await sleep(50);
        }
        return undefined;
      };
      const reclaimedAt = await untilThaw(async () => (await pinnedFinished()) === pinned.length);
      const allDoneAt = await untilThaw(
        async () => (await t.store.taskQueueCount({ queueName: queue, statuses: ['queued', 'running'] })) === 0,
      );
      const errorsSince = (from: number) => frozenErrors.filter((entry) => entry.at >= from);
      await untilThaw(() => errorsSince(frozenAt).length > 0);
      const finishedWhileFrozen = await pinnedFinished();
      const openAtThaw = await t.store.taskQueueCount({ queueName: queue, statuses: ['queued', 'running'] });
      const locksAtThaw = await lockReport(dialect, t.store).catch((error: unknown) => `(lock report failed: ${String(error)})`);
      const errorsWhileFrozen = errorsSince(frozenAt);
      const heldAtThaw = proxy.stats();
      proxy.thaw();
      const thawedAt = Date.now();

      report(
        `frozen runner: ${inFlight.length} tasks in flight at the freeze, ${pinned.length} running rows of its claims; ` +
          `${finishedWhileFrozen}/${pinned.length} of those finished by the healthy runner while frozen` +
          (reclaimedAt === undefined ? '' : ` (${reclaimedAt - frozenAt} ms after the freeze)`),
      );
      report(
        `all tasks done while frozen: ${allDoneAt === undefined ? `no, ${openAtThaw} still queued or running at the thaw` : `yes, ${allDoneAt - frozenAt} ms after the freeze`}; ` +
          `proxy at the thaw: ${heldAtThaw.open} connections, ${heldAtThaw.held} chunks held; open transactions and lock waits: ${locksAtThaw}`,
      );
      report(
        errorsWhileFrozen.length === 0
          ? `frozen runner: no 'error' event in ${thawedAt - frozenAt} ms frozen (it hung silently)`
          : `frozen runner: ${errorsWhileFrozen.length} 'error' events while frozen, the first ${errorsWhileFrozen[0]!.at - frozenAt} ms after the freeze: ` +
              firstMessages(errorsWhileFrozen.map((entry) => entry.error)),
      );

      // after the thaw: the healthy runner steps aside, new tasks go to the recovered runner
      await stopWithin(healthy, 20_000, 'stopping the healthy runner');
      const startsBefore = frozenEvents.started.length;
      const fresh = await t.store.taskDefinitionEnqueueManyByAlias(
        queue,
        alias,
        Array.from({ length: 20 }, (_, index) => ({ index: FREEZE.tasks + index })),
      );
      const recovered = await waitFor(
        async () => (await t.store.taskQueueCount({ queueName: queue, statuses: ['queued', 'running'] })) === 0,
        { timeoutMs: 60_000, intervalMs: 100, message: 'the runner recovered after the thaw and ran the new tasks' },
      )
        .then(() => Date.now())
        .catch(() => undefined);
      report(
        `after the thaw: ${recovered === undefined ? 'the runner did not recover within 60 s' : `queue empty ${recovered - thawedAt} ms after the thaw`}; ` +
          `${ledger.extraRuns()} extra runs overall; runner errors ${frozenEvents.errors.length} (${firstMessages(frozenEvents.errors)})`,
      );

      expect(finishedWhileFrozen, "the frozen runner's claimed tasks, reclaimed and finished by the healthy runner while frozen").to.equal(
        pinned.length,
      );
      expect(errorsWhileFrozen.length, "the frozen runner emitted an 'error' while frozen instead of hanging silently").to.be.greaterThan(
        0,
      );
      expect(openAtThaw, 'tasks still queued or running when the network came back (all should finish while it is frozen)').to.equal(0);
      expect(recovered, 'the runner recovered after the thaw').to.not.equal(undefined);
      expect(frozen.isRunning(), 'the frozen runner is still running').to.equal(true);
      const ranFresh = fresh.filter((item) => ledger.runnersOf(item.id).includes('frozen')).length;
      expect(ranFresh, 'new tasks run by the recovered runner').to.equal(fresh.length);
      expect(frozenEvents.started.length, 'the recovered runner claimed again').to.be.greaterThan(startsBefore);
      expect(await t.store.taskQueueCount({ queueName: queue, status: 'success' })).to.equal(FREEZE.tasks + fresh.length);
      expect(unhandled(), 'unhandled rejections').to.deep.equal([]);
    } finally {
      unhandled();
      await cleanUp([frozen, healthy], [frozenStore]);
    }
  });

  it('a claim cut off half-way by a half-open network: the healthy peer does not stall, and the claimed rows come free', async function () {
    this.timeout(FREEZE.freezeMs + 60_000);
    const TASKS = 60;
    const { ledger, frozenStore, frozen, healthy, fillQueue } = await frozenAndHealthy('HalfClaim');
    try {
      await fillQueue(TASKS);
      const frozenEvents = recordEvents(frozen);
      const healthyEvents = recordEvents(healthy);
      let frozenAt = 0;
      proxy.freezeOn(CLAIM_END.patterns, { after: CLAIM_END.after, onFreeze: () => (frozenAt = Date.now()) });
      frozen.start();
      await waitFor(() => frozenAt > 0, { timeoutMs: 10_000, message: 'the first claim caught half-way by the proxy' });
      healthy.start();

      const thawAt = frozenAt + FREEZE.freezeMs;
      const openCount = () => t.store.taskQueueCount({ queueName: queue, statuses: ['queued', 'running'] });
      let othersDoneAt: number | undefined;
      let allDoneAt: number | undefined;
      while (Date.now() < thawAt - 300 && allDoneAt === undefined) {
        const open = await openCount();
        if (open <= frozen.options.maxConcurrency && othersDoneAt === undefined) othersDoneAt = Date.now();
        if (open === 0) allDoneAt = Date.now();
        else await sleep(50);
      }
      const openAtThaw = await openCount();
      const locks = await lockReport(dialect, t.store).catch((error: unknown) => `(lock report failed: ${String(error)})`);
      proxy.thaw();
      report(
        `claim frozen half-way for ${FREEZE.freezeMs} ms: healthy runner ran ${healthyEvents.succeeded.length}/${TASKS} meanwhile; ` +
          `all but the frozen claim's share done ${othersDoneAt === undefined ? 'never' : `${othersDoneAt - frozenAt} ms`} after the freeze, ` +
          `all done ${allDoneAt === undefined ? `never (${openAtThaw} left at the thaw)` : `${allDoneAt - frozenAt} ms`} after it; ` +
          `open transactions and lock waits at the thaw: ${locks}`,
      );

      await waitFor(async () => (await openCount()) === 0, {
        timeoutMs: 30_000,
        intervalMs: 100,
        message: 'every task done after the thaw',
      });
      report(
        `after the thaw: ${ledger.extraRuns()} extra runs; errors: frozen runner ${frozenEvents.errors.length} (${firstMessages(frozenEvents.errors)}), ` +
          `healthy ${healthyEvents.errors.length} (${firstMessages(healthyEvents.errors)})`,
      );
      expect(othersDoneAt, 'the healthy runner drained every task outside the frozen claim while frozen (it did not stall)').to.not.equal(
        undefined,
      );
      expect(openAtThaw, "tasks left when the network came back: the frozen claim's rows should have come free meanwhile").to.equal(0);
      expect(await t.store.taskQueueCount({ queueName: queue, status: 'success' })).to.equal(TASKS);
    } finally {
      await cleanUp([frozen, healthy], [frozenStore]);
    }
  });

  it('a slow network (+400 ms each way): long tasks stay claimed by their heartbeats, a drain completes, no task runs twice', async function () {
    this.timeout(90_000);
    // a window of 7.5 round trips (6 s), the long tasks longer than that: only heartbeats keep them
    const WINDOW_MINUTES = 0.1;
    const LONG_MS = 7000;
    const ledger = new RunLedger();
    const alias = uniqueAlias('Slow');
    const slowStore = await openThroughProxy();
    const healthyStore = await t.openStore();
    const options = { queueName: queue, maxConcurrency: 4, intervalSeconds: 0.2, unstuckMinutes: WINDOW_MINUTES };
    const slow = new TaskQueueRunner(slowStore, options);
    const healthy = new TaskQueueRunner(healthyStore, options);
    try {
      await registerHandlers(
        alias,
        [
          { store: slowStore, label: 'slow' },
          { store: healthyStore, label: 'healthy' },
        ],
        ledger,
        (item) => sleep(item.parameters['long'] ? LONG_MS : 100),
      );
      const long = await t.store.taskDefinitionEnqueueManyByAlias(
        queue,
        alias,
        [1, 2, 3, 4].map((n) => ({ n, long: true })),
        { priority: 10 },
      );
      const short = await t.store.taskDefinitionEnqueueManyByAlias(
        queue,
        alias,
        Array.from({ length: 20 }, (_, n) => ({ n })),
      );
      proxy.slow(400);
      const slowEvents = recordEvents(slow);
      const healthyEvents = recordEvents(healthy);
      const began = Date.now();
      slow.start();
      // the peer starts once the long tasks' heartbeats come through the slow link (how fresh a
      // claim is when it lands is the next test's matter)
      const beating = await waitFor(
        async () => {
          const rows = await t.store.taskQueueList({ ids: long.map((item) => item.id) });
          return rows.every((row) => row.status === 'running' && row.heartbeatAt!.getTime() > row.startedAt!.getTime()) ? Date.now() : 0;
        },
        { timeoutMs: 30_000, intervalMs: 50, message: 'the long tasks claimed by the slow runner and heartbeating' },
      );
      healthy.start();
      await waitFor(async () => (await t.store.taskQueueCount({ queueName: queue, status: 'success' })) === long.length + short.length, {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: 'the drain over the slow link completed',
      });
      report(
        `claim + first heartbeat through the slow link: ${beating - began} ms; drained in ${Date.now() - began} ms; ` +
          `runs: slow runner ${slowEvents.started.length}, healthy ${healthyEvents.started.length}; ${ledger.extraRuns()} extra runs; ` +
          `errors: slow ${slowEvents.errors.length} (${firstMessages(slowEvents.errors)}), healthy ${healthyEvents.errors.length}`,
      );
      const rerun = await Promise.all(
        [...ledger.reruns().keys()].slice(0, 4).map(async (id) => {
          const row = await t.store.taskQueueFindById(id);
          return `${id}: runs ${ledger.describe(id, began)}; details ${JSON.stringify(detailMessages(row?.details ?? ''))}`;
        }),
      );
      expect([...ledger.reruns().keys()], `tasks run more than once:\n${rerun.join('\n')}`).to.deep.equal([]);
      expect(
        long.map((item) => ledger.runnersOf(item.id).join(',')),
        'the long tasks ran once, on the slow runner',
      ).to.deep.equal(['slow', 'slow', 'slow', 'slow']);
      expect(
        slowEvents.errors.map((error) => error.message),
        "the slow runner's errors (a slow network is not a dead one)",
      ).to.deep.equal([]);
    } finally {
      await cleanUp([slow, healthy], [slowStore]);
    }
  });

  it('a claim held up 3 s by the network is not reclaimed as soon as it lands (unstuck window 2 s)', async function () {
    this.timeout(60_000);
    const UNSTUCK = 2 / 60; // 2 s
    const HOLD_MS = 3000;
    const ledger = new RunLedger();
    const alias = uniqueAlias('Late');
    // A deadline longer than the hold: the claim is late, not lost.
    const lateStore = await openThroughProxy({ statementTimeoutMs: 10_000 });
    const healthyStore = await t.openStore();
    let healthy: TaskQueueRunner | undefined;
    let sweeping = true;
    const sweeps: number[] = [];
    let reclaimed = 0;
    // another worker's unstuck sweep, every 0.1 s, straight to the server
    const sweeper = (async () => {
      for (let n = 0; n < 600 && sweeping; n += 1) {
        reclaimed += await t.store.taskQueueUnstuck(queue, UNSTUCK).catch(() => 0);
        sweeps.push(Date.now());
        await sleep(100);
      }
    })();
    try {
      // each run holds for 1 s: less than the window, more than a sweep
      await registerHandlers(
        alias,
        [
          { store: lateStore, label: 'late' },
          { store: healthyStore, label: 'healthy' },
        ],
        ledger,
        () => sleep(1000),
      );
      const items = await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{ n: 1 }, { n: 2 }, { n: 3 }]);
      await lateStore.taskQueueCount({ queueName: queue }); // a connection in the pool, before the trap is armed

      let frozenAt = 0;
      proxy.freezeOn(CLAIM_PATTERNS, { onFreeze: () => (frozenAt = Date.now()) });
      const claiming = lateStore.taskQueueClaim(queue, items.length);
      await waitFor(() => proxy.frozen, { timeoutMs: 5000, message: 'the claim caught by the proxy' });
      await sleep(HOLD_MS);
      proxy.thaw();
      const claimed = await within(claiming, 20_000, 'the claim after the thaw');
      const landedAt = Date.now();
      expect(claimed.map((item) => item.id).sort(), 'the late claim took the tasks').to.deep.equal(items.map((item) => item.id).sort());
      // straight away, as a runner does: the claim is fresh
      const results = await Promise.all(claimed.map((item) => lateStore.taskQueueExecute(item)));
      const recorded = results.filter((result) => result?.recorded).length;

      // whatever went back to the queue runs on a healthy runner
      healthy = new TaskQueueRunner(healthyStore, { queueName: queue, intervalSeconds: 0.1, unstuckMinutes: UNSTUCK });
      healthy.start();
      await waitFor(async () => (await t.store.taskQueueCount({ queueName: queue, status: 'success' })) === items.length, {
        timeoutMs: 20_000,
        intervalMs: 50,
        message: 'all three tasks succeeded',
      });
      await stopWithin(healthy, 10_000);
      const rows = await t.store.taskQueueList({ ids: items.map((item) => item.id) });
      const stampedBefore = claimed.map((item) => landedAt - item.startedAt!.getTime());
      report(
        `claim held ${HOLD_MS} ms (frozen ${frozenAt ? 'at the claim' : '?'}); it came back ${landedAt - frozenAt} ms after it was sent, ` +
          `stamped ${Math.min(...stampedBefore)}–${Math.max(...stampedBefore)} ms before it came back; ` +
          `${recorded}/${claimed.length} results recorded by the late claimer; the sweeper reclaimed ${reclaimed}; ` +
          `runs: ${items.map((item) => ledger.runnersOf(item.id).join('+')).join(', ')}`,
      );

      const reclaimedRows = rows.filter((row) => detailMessages(row.details).some((line) => line.startsWith('Task reclaimed')));
      expect(
        reclaimedRows.map((row) => row.id),
        `tasks reclaimed right after their late claim landed (claims stamped ${Math.max(...stampedBefore)} ms before they came back, window ${UNSTUCK * 60_000} ms)`,
      ).to.deep.equal([]);
      expect([...ledger.reruns().keys()], 'tasks run more than once').to.deep.equal([]);
      expect(recorded, "the late claimer's results recorded").to.equal(items.length);
      expect(rows.map((row) => row.attempts)).to.deep.equal([1, 1, 1]);
    } finally {
      sweeping = false;
      await sweeper;
      await cleanUp(healthy ? [healthy] : [], [lateStore]);
    }
  });
});
