/** The queue settings commands (docs/flow-control.md): queues, pause, resume, limits. */
import { MAX_QUEUE_LIMIT } from '../../queue/queue-settings.js';
import type { QueueConfigureInput, QueueSettings, RateLimit } from '../../foundation/types.js';
import { MAX_TIMER, UsageError, parseDuration, parseInteger } from '../args.js';
import { helpRequested, parseCommand, required, withStore, type Command } from '../command.js';
import { formatDate, formatTable, line, printJson } from '../output.js';

/** '5/1s' → { count: 5, periodMs: 1000 }. */
const formatRate = (rate: RateLimit | null): string => (rate ? `${rate.count}/${rate.periodMs}ms` : '-');
const formatLimit = (limit: number | null): string => (limit === null ? '-' : String(limit));

/** The limits of a queue in one line: 'concurrency 4, group concurrency 1, rate 100/60000ms'. */
export function describeLimits(settings: QueueSettings): string {
  const parts = [
    settings.concurrency === null ? null : `concurrency ${settings.concurrency}`,
    settings.groupConcurrency === null ? null : `group concurrency ${settings.groupConcurrency}`,
    settings.rateLimit ? `rate ${formatRate(settings.rateLimit)}` : null,
    settings.groupRateLimit ? `group rate ${formatRate(settings.groupRateLimit)}` : null,
  ].filter((part) => part !== null);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

const QUEUES_USAGE = `usage: taskstore queues

  lists every queue that has settings or tasks: paused or not, its limits, its tasks by status`;

export const queuesCommand: Command = {
  name: 'queues',
  summary: 'list queues with their pause state, limits and task counts',
  usage: QUEUES_USAGE,
  async run(context) {
    const parsed = parseCommand(context.args, {}, 0);
    if (helpRequested(context, parsed, QUEUES_USAGE)) return 0;
    await withStore(context, parsed.string('database'), async (store) => {
      const queues = await store.queueList();
      if (context.out.json) return printJson(context.out, queues);
      if (queues.length === 0) return line(context.out.stdout, 'no queues');
      line(
        context.out.stdout,
        formatTable(
          ['QUEUE', 'PAUSED', 'CONCURRENCY', 'GROUP', 'RATE', 'GROUP RATE', 'QUEUED', 'RUNNING', 'SUCCESS', 'FAILED'],
          queues.map((queue) => [
            queue.queueName,
            queue.paused ? 'yes' : 'no',
            formatLimit(queue.concurrency),
            formatLimit(queue.groupConcurrency),
            formatRate(queue.rateLimit),
            formatRate(queue.groupRateLimit),
            String(queue.stats.queued),
            String(queue.stats.running),
            String(queue.stats.success),
            String(queue.stats.failed),
          ]),
        ),
      );
    });
    return 0;
  },
};

function pauseCommand(name: 'pause' | 'resume'): Command {
  const usage = `usage: taskstore ${name} <queue>\n\n  ${
    name === 'pause'
      ? 'every runner of the queue, in any process, stops claiming; running tasks finish'
      : 'the runners of a paused queue claim again'
  }`;
  return {
    name,
    summary: name === 'pause' ? 'pause a queue: no runner claims from it' : 'resume a paused queue',
    usage,
    async run(context) {
      const parsed = parseCommand(context.args, {}, 1);
      if (helpRequested(context, parsed, usage)) return 0;
      const queue = required(parsed.positionals, 0, 'the queue name');
      await withStore(context, parsed.string('database'), async (store) => {
        const settings = name === 'pause' ? await store.queuePause(queue) : await store.queueResume(queue);
        if (context.out.json) return printJson(context.out, settings);
        line(context.out.stdout, `${name === 'pause' ? 'paused' : 'resumed'} queue '${settings.queueName}'`);
      });
      return 0;
    },
  };
}

export const pauseQueueCommand = pauseCommand('pause');
export const resumeQueueCommand = pauseCommand('resume');

const LIMITS_USAGE = `usage: taskstore limits <queue> [--concurrency N|none] [--group-concurrency N|none]
                        [--rate N/PERIOD|none] [--group-rate N/PERIOD|none]

  sets the queue's limits across all runners; options not given are left as they are, and
  with none given prints the queue's settings

  --concurrency        at most N tasks of the queue run at once (1 to ${MAX_QUEUE_LIMIT.toLocaleString('en-US')})
  --group-concurrency  at most N tasks of one group run at once
  --rate               at most N starts per PERIOD (e.g. 100/1m, 5/1s, 10/500ms)
  --group-rate         at most N starts of one group per PERIOD
  none                 removes that limit`;

function parseLimitOption(text: string, option: string): number | null {
  return text.trim() === 'none' ? null : parseInteger(text, option, 1, MAX_QUEUE_LIMIT);
}

function parseRateOption(text: string, option: string): RateLimit | null {
  if (text.trim() === 'none') return null;
  const match = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(text);
  if (!match) throw new UsageError(`${option}: '${text}' is not N/PERIOD (e.g. 100/1m, 5/1s) or none`);
  const periodMs = parseDuration(match[2] as string, option, MAX_TIMER);
  if (periodMs < 1) throw new UsageError(`${option}: the period must be at least 1ms (got '${match[2]}')`);
  return { count: parseInteger(match[1] as string, option, 1, MAX_QUEUE_LIMIT), periodMs };
}

export const limitsCommand: Command = {
  name: 'limits',
  summary: "set a queue's concurrency and rate limits",
  usage: LIMITS_USAGE,
  async run(context) {
    const parsed = parseCommand(
      context.args,
      {
        concurrency: { type: 'string' },
        'group-concurrency': { type: 'string' },
        rate: { type: 'string' },
        'group-rate': { type: 'string' },
      },
      1,
    );
    if (helpRequested(context, parsed, LIMITS_USAGE)) return 0;
    const queue = required(parsed.positionals, 0, 'the queue name');
    const input: QueueConfigureInput = {};
    const text = (option: string) => parsed.string(option);
    if (text('concurrency') !== undefined) input.concurrency = parseLimitOption(text('concurrency') as string, '--concurrency');
    if (text('group-concurrency') !== undefined)
      input.groupConcurrency = parseLimitOption(text('group-concurrency') as string, '--group-concurrency');
    if (text('rate') !== undefined) input.rateLimit = parseRateOption(text('rate') as string, '--rate');
    if (text('group-rate') !== undefined) input.groupRateLimit = parseRateOption(text('group-rate') as string, '--group-rate');
    await withStore(context, parsed.string('database'), async (store) => {
      const settings = Object.keys(input).length === 0 ? await store.queueSettings(queue) : await store.queueConfigure(queue, input);
      if (context.out.json) return printJson(context.out, settings);
      line(
        context.out.stdout,
        `queue '${settings.queueName}'${settings.paused ? ' (paused)' : ''}: ${describeLimits(settings)}${
          settings.updatedAt ? ` (updated ${formatDate(settings.updatedAt)})` : ''
        }`,
      );
    });
    return 0;
  },
};
