/**
 * Canceling a running task from another OS process: the handler's ctx.signal aborts with a
 * ClaimLostError('canceled') — on PostgreSQL through the change feed's notification, long
 * before the worker's next heartbeat; elsewhere at the worker's next heartbeat — the row ends
 * canceled, and the handler's late success changes nothing.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { defineTask } from '../../lib/index.js';
import { detailMessages, forEachDialect, uniqueAlias, within } from '../support/index.js';
import { useFreshQueue } from '../support/runner-helpers.js';

const RUNNER_WORKER = fileURLToPath(new URL('../support/runner-worker.js', import.meta.url));

forEachDialect('taskQueueCancelById across processes', (t) => {
  let queue: string;

  useFreshQueue((name) => {
    queue = name;
  });

  it("aborts the running handler's ctx.signal in another process; the row ends canceled and its late finish changes nothing", async function () {
    this.timeout(90_000);
    const alias = uniqueAlias('Cancelable');
    await t.store.taskHandlerAdd(defineTask({ alias, handle: () => true }), true);
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    // PostgreSQL: a heartbeat every 30 s (unstuckMinutes 2), so only the notification can be
    // in time. Elsewhere: a heartbeat every 300 ms, which finds the claim gone.
    const notifies = t.dialect === 'postgres';
    const unstuckMinutes = notifies ? '2' : '0.02';
    const heartbeatMs = (Number(unstuckMinutes) * 60_000) / 4;

    const child = spawn(process.execPath, [RUNNER_WORKER, t.url, queue, alias, 'cancel', unstuckMinutes], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const waiters: { pattern: RegExp; resolve: (match: RegExpExecArray) => void }[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      for (const waiter of [...waiters]) {
        const match = waiter.pattern.exec(stdout);
        if (match) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(match);
        }
      }
    });
    const output = (pattern: RegExp, what: string) =>
      within(
        new Promise<RegExpExecArray>((resolve, reject) => {
          const match = pattern.exec(stdout);
          if (match) return resolve(match);
          waiters.push({ pattern, resolve });
          child.once('exit', (code) => reject(new Error(`runner-worker exited (${code}) before ${what}\n${stderr}`)));
        }),
        30_000,
        what,
      );
    const exited = once(child, 'exit');
    try {
      expect((await output(/^started (\S+)$/m, 'the child starting its handler'))[1]).to.equal(item.id);

      const canceledAt = Date.now();
      const canceled = await t.store.taskQueueCancelById(item.id);
      expect(canceled).to.include({ status: 'canceled', claimToken: null });
      expect(canceled.completedAt).to.be.instanceOf(Date);

      const aborted = await output(/^aborted (\S+) (\S+)$/m, "the child's handler seeing ctx.signal abort");
      const abortMs = Date.now() - canceledAt;
      expect([aborted[1], aborted[2]]).to.deep.equal(['ClaimLostError', 'canceled']);
      console.log(`      · ${t.dialect}: abort seen ${abortMs} ms after the cancel (heartbeat every ${heartbeatMs} ms)`);
      // Not a speed check: with a 30 s heartbeat, an abort within 10 s can only have come by notification.
      if (notifies) expect(abortMs, 'PostgreSQL: the notification, not the heartbeat').to.be.below(heartbeatMs / 3);

      child.kill('SIGTERM');
      await output(/^stopped$/m, 'the child stopping its runner (the late finish done)');
    } finally {
      child.kill('SIGKILL');
      await within(exited, 10_000, 'the child exiting');
    }

    const row = await t.store.taskQueueFindById(item.id);
    expect(row).to.include({ status: 'canceled', attempts: 1, claimToken: null });
    const messages = detailMessages(row!.details);
    expect(messages).to.include('Task canceled while running');
    expect(messages).to.not.include('Task completed');
  });
});
