/**
 * `taskstore work`: runners for one or more queues (plus the schedule runner) with the
 * handlers of a module, until SIGINT/SIGTERM; a second signal exits at once.
 */
import { MAX_TIMER, parseInteger, parseDuration, UsageError } from '../args.js';
import { helpRequested, parseCommand, withStore, type Command, type CommandContext } from '../command.js';
import { loadHandlersModule } from '../handlers-module.js';
import { line } from '../output.js';
import { ProgressLine } from '../progress.js';
import { watchShutdownSignals } from '../signals.js';
import { Workers } from '../workers.js';
import type { TaskStore } from '../../task-store.js';

const USAGE = `usage: taskstore work --handlers ./tasks.js [--queue name]… [--concurrency n] [--interval 5s]

  --handlers     the handlers module (default: TASKSTORE_HANDLERS)
  --queue        a queue to work; repeatable (default: default)
  --concurrency  handlers at once per queue: 1 to 1000 (default 1)
  --interval     poll interval when idle (default 5s, at most 24d20h31m; enqueues from this
                 process wake it at once)
  --grace        on stop, abort the handlers' ctx.signal after this long (default: wait for
                 them; at most 24d20h31m)
  --no-schedules do not run the schedule runner

SIGINT/SIGTERM stop claiming and wait for the running handlers; a second signal exits at once (130).`;

export const WORK_OPTIONS = {
  handlers: { type: 'string' },
  queue: { type: 'string', short: 'q', multiple: true },
  concurrency: { type: 'string', short: 'c' },
  interval: { type: 'string' },
  grace: { type: 'string' },
  'no-schedules': { type: 'boolean' },
} as const;

/** The most handlers at once per queue `--concurrency` takes. */
const MAX_CONCURRENCY = 1000;

/** Registers the handlers module's handlers on the store; returns their aliases. */
export async function registerHandlers(store: TaskStore, path: string): Promise<string[]> {
  const handlers = await loadHandlersModule(path);
  for (const handler of handlers) await store.taskHandlerAdd(handler, true);
  return handlers.map((handler) => handler.alias);
}

/** Runs `workers` until the first shutdown signal, then stops them gracefully. */
export async function runUntilSignal(
  context: CommandContext,
  workers: Workers,
  progress: ProgressLine,
  {
    graceMs,
    beforeStop,
    announce,
  }: {
    graceMs?: number;
    beforeStop?: () => Promise<void>;
    /** Prints the command's banner ("Ctrl-C to stop") once a signal is handled, not before. */
    announce?: () => void;
  } = {},
): Promise<void> {
  const watch = watchShutdownSignals((signal) => {
    context.out.stderr.write(`\ntaskstore: ${signal} again: exiting without waiting for running tasks\n`);
    process.exit(130);
  });
  try {
    announce?.();
    await workers.start();
    const signal = await watch.signaled;
    progress.print(`${signal}: stopping; waiting for running tasks (press Ctrl-C again to force)`);
    await beforeStop?.();
    await workers.stop(graceMs);
  } finally {
    watch.dispose();
  }
}

/** What `work` and `dashboard --queue` were asked for, checked before anything is opened. */
export interface WorkSettings {
  readonly queues: string[];
  readonly concurrency: number;
  readonly intervalSeconds?: number;
  readonly schedules: boolean;
  readonly graceMs?: number;
}

export function workSettings(parsed: ReturnType<typeof parseCommand>, defaultQueues: string[]): WorkSettings {
  const concurrency = parsed.string('concurrency');
  const interval = parsed.string('interval');
  const grace = parsed.string('grace');
  const queues = parsed.list('queue');
  return {
    queues: queues.length > 0 ? queues : defaultQueues,
    concurrency: concurrency === undefined ? 1 : parseInteger(concurrency, '--concurrency', 1, MAX_CONCURRENCY),
    ...(interval === undefined ? {} : { intervalSeconds: Math.max(0.01, parseDuration(interval, '--interval', MAX_TIMER) / 1000) }),
    schedules: !parsed.flag('no-schedules'),
    ...(grace === undefined ? {} : { graceMs: parseDuration(grace, '--grace', MAX_TIMER) }),
  };
}

export function workersFrom(store: TaskStore, settings: WorkSettings, progress: ProgressLine): Workers {
  return new Workers(store, {
    queues: settings.queues,
    concurrency: settings.concurrency,
    ...(settings.intervalSeconds === undefined ? {} : { intervalSeconds: settings.intervalSeconds }),
    schedules: settings.schedules,
    progress,
  });
}

export const workCommand: Command = {
  name: 'work',
  summary: 'process queues with the handlers of a module until stopped',
  usage: USAGE,
  async run(context) {
    const parsed = parseCommand(context.args, WORK_OPTIONS, 0);
    if (helpRequested(context, parsed, USAGE)) return 0;
    const handlersPath = parsed.string('handlers') ?? context.env['TASKSTORE_HANDLERS'];
    if (!handlersPath) throw new UsageError('work needs --handlers ./tasks.js (or TASKSTORE_HANDLERS)', { seeHelp: true });
    const settings = workSettings(parsed, ['default']);
    await withStore(context, parsed.string('database'), async (store) => {
      const aliases = await registerHandlers(store, handlersPath);
      const progress = new ProgressLine(context.out.stdout);
      const workers = workersFrom(store, settings, progress);
      const announce = () =>
        line(
          context.out.stdout,
          `working queue${workers.queues.length === 1 ? '' : 's'} ${workers.queues.join(', ')} on ${store.dialect} with ${aliases.join(', ')}` +
            `${workers.scheduler ? ' (schedules on)' : ''}; Ctrl-C to stop`,
        );
      await runUntilSignal(context, workers, progress, {
        announce,
        ...(settings.graceMs === undefined ? {} : { graceMs: settings.graceMs }),
      });
      const { succeeded, failed, retried } = progress.counts;
      line(context.out.stdout, `stopped: ${succeeded} succeeded, ${failed} failed, ${retried} retried`);
    });
    return 0;
  },
};
