/**
 * `taskstore demo` (what `npm start` runs): an embedded SQLite store, a few example tasks
 * (one that fails and is retried, one delayed, one scheduled, one slow with a live log, one
 * that fails for good), runners on two queues, the dashboard on http://127.0.0.1:3000 and a
 * live progress line, until Ctrl-C.
 */
import { defaultDatabaseUrl } from '../../../adapters/index.js';
import { defineTask } from '../../definitions/handler.js';
import { PermanentError } from '../../foundation/errors.js';
import { sleep } from '../../foundation/time.js';
import type { TaskStore } from '../../task-store.js';
import { parseInteger } from '../args.js';
import { helpRequested, parseCommand, withStore, type Command } from '../command.js';
import { allowedHostsFrom, startDashboardServer, type DashboardServer } from '../dashboard-server.js';
import { line } from '../output.js';
import { ProgressLine } from '../progress.js';
import { runUntilSignal } from './work.js';
import { Workers } from '../workers.js';

export const helloWorld = defineTask<{ name?: string }>({
  alias: 'HelloWorldTask',
  title: 'Hello World',
  description: 'Say hello world',
  async handle(ctx) {
    await ctx.logInfo(`Hello ${ctx.params.name ?? 'World'}!`);
    return true;
  },
});

export const sendEmail = defineTask<{ to?: string; subject?: string }>({
  alias: 'SendEmailTask',
  title: 'Send an email',
  description: 'Pretends to send an email (takes a moment)',
  maxAttempts: 3,
  async handle(ctx) {
    await ctx.logInfo(`Connecting to the mail server for ${ctx.params.to ?? 'someone@example.com'}`);
    await sleep(200 + Math.floor(Math.random() * 600), ctx.signal);
    await ctx.logSuccess(`Sent "${ctx.params.subject ?? 'Hello'}"`);
    ctx.setOutput(JSON.stringify({ messageId: `<${Date.now()}@demo.invalid>` }));
  },
});

export const flaky = defineTask({
  alias: 'FlakyTask',
  title: 'Flaky',
  description: 'Fails on its first attempt, succeeds on the retry',
  maxAttempts: 3,
  backoff: { type: 'exponential', delayMs: 2000 },
  async handle(ctx) {
    if (ctx.attempt === 1) throw new Error('the first attempt always fails');
    await ctx.logSuccess(`succeeded on attempt ${ctx.attempt}`);
    ctx.setOutput(JSON.stringify({ attempt: ctx.attempt }));
  },
});

export const report = defineTask<{ steps?: number }>({
  alias: 'BuildReportTask',
  title: 'Build a report',
  description: 'A slow task that logs its progress (watch its details grow in the dashboard)',
  async handle(ctx) {
    const steps = Number(ctx.params.steps ?? 10);
    for (let step = 1; step <= steps && !ctx.signal.aborted; step += 1) {
      await sleep(1000, ctx.signal);
      if (ctx.signal.aborted) throw new Error(`stopped after step ${step - 1} of ${steps}`);
      await ctx.logInfo(`step ${step} of ${steps} done`);
    }
    ctx.setOutput(`report with ${steps} sections`);
  },
});

export const importCustomers = defineTask<{ file?: string }>({
  alias: 'ImportCustomersTask',
  title: 'Import customers',
  description: 'Always fails for good (PermanentError): retry it from the dashboard',
  async handle(ctx) {
    await ctx.logError(`cannot read ${ctx.params.file ?? 'customers.csv'}: no such file`);
    throw new PermanentError('the import file is missing');
  },
});

export const DEMO_HANDLERS = [helloWorld, sendEmail, flaky, report, importCustomers];
const QUEUES = ['default', 'emails'];

async function seed(store: TaskStore): Promise<number> {
  for (const handler of DEMO_HANDLERS) await store.taskHandlerAdd(handler, true);
  const items = [
    await store.taskDefinitionEnqueueByAlias('default', 'HelloWorldTask', { name: 'taskstore' }),
    await store.taskDefinitionEnqueueByAlias('default', 'FlakyTask', {}),
    await store.taskDefinitionEnqueueByAlias('default', 'HelloWorldTask', { name: 'later' }, { delayMs: 15_000 }),
    await store.taskDefinitionEnqueueByAlias('default', 'BuildReportTask', { steps: 20 }),
    await store.taskDefinitionEnqueueByAlias('default', 'ImportCustomersTask', { file: 'customers-2025.csv' }),
    ...(await store.taskDefinitionEnqueueManyByAlias(
      'emails',
      'SendEmailTask',
      ['ann', 'bob', 'cy', 'dee', 'eve'].map((name) => ({ to: `${name}@example.com`, subject: 'Welcome' })),
    )),
  ];
  const [existing] = await store.scheduleList({ name: 'demo-every-20s', limit: 1 });
  if (!existing) {
    await store.scheduleCreate({
      name: 'demo-every-20s',
      alias: 'HelloWorldTask',
      queueName: 'default',
      parameters: { name: 'schedule' },
      recurrenceRule: { frequency: 'secondly', interval: 20 },
    });
  }
  return items.length;
}

const USAGE = `usage: taskstore demo [--port 3000] [--host 127.0.0.1] [--allowed-host name]… [--no-dashboard]

  runs example tasks on embedded SQLite (default database sqlite:./taskstore-demo.db),
  with runners on the queues ${QUEUES.join(' and ')}, a schedule and the dashboard, until Ctrl-C.
  The dashboard serves this machine only, and answers only to loopback names, the --host
  address and the --allowed-host names (as in taskstore dashboard).`;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'example tasks, runners and the dashboard on embedded SQLite',
  usage: USAGE,
  async run(context) {
    const parsed = parseCommand(
      context.args,
      {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        'allowed-host': { type: 'string', multiple: true },
        'no-dashboard': { type: 'boolean' },
      },
      0,
    );
    if (helpRequested(context, parsed, USAGE)) return 0;
    const port = parseInteger(parsed.string('port') ?? '3000', '--port', 0, 65535);
    const host = parsed.string('host') ?? '127.0.0.1';
    const allowedHosts = allowedHostsFrom(host, parsed.list('allowed-host'));
    const database = parsed.string('database') ?? defaultDatabaseUrl(context.env, 'sqlite:./taskstore-demo.db');
    await withStore(context, database, async (store) => {
      const enqueued = await seed(store);
      const progress = new ProgressLine(context.out.stdout);
      const workers = new Workers(store, { queues: QUEUES, concurrency: 2, intervalSeconds: 1, progress });
      let dashboard: DashboardServer | null = null;
      if (!parsed.flag('no-dashboard')) {
        dashboard = await startDashboardServer(store, {
          host,
          port,
          allowedHosts,
          queues: QUEUES,
          title: 'taskstore demo',
          remoteRefusalHint: 'The demo serves this machine only (taskstore dashboard has --read-only and --allow-remote).',
        });
      }
      const announce = () => {
        line(
          context.out.stdout,
          `taskstore demo on ${store.dialect} (${database}): enqueued ${enqueued} tasks on ${QUEUES.join(' and ')}, a schedule every 20 s`,
        );
        if (dashboard) line(context.out.stdout, `dashboard: ${dashboard.url}`);
        line(context.out.stdout, 'press Ctrl-C to stop');
      };
      // A trickle of new work, so the dashboard has something to show.
      const trickle = setInterval(() => {
        void store
          .taskDefinitionEnqueueByAlias('emails', 'SendEmailTask', {
            to: `user${Math.floor(Math.random() * 1000)}@example.com`,
            subject: 'News',
          })
          .catch(() => {});
      }, 3000);
      trickle.unref();
      try {
        await runUntilSignal(context, workers, progress, { graceMs: 2000, beforeStop: async () => clearInterval(trickle), announce });
      } finally {
        clearInterval(trickle);
        await dashboard?.close();
      }
      const { succeeded, failed, retried } = progress.counts;
      line(context.out.stdout, `demo stopped: ${succeeded} succeeded, ${failed} failed, ${retried} retried`);
    });
    return 0;
  },
};
