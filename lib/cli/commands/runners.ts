/** `taskstore runners`: the started runners of every process sharing the database (docs/runners.md, "The runners registry"). */
import type { RunnerListOptions } from '../../foundation/runner-types.js';
import { MAX_TIMER, UsageError, parseDuration } from '../args.js';
import { helpRequested, parseCommand, withStore, type Command } from '../command.js';
import { formatDate, formatTable, line, oneLine, printJson } from '../output.js';

const USAGE = `usage: taskstore runners [--queue NAME] [--stale-after DURATION]

  lists the TaskQueueRunners and ScheduleRunners that are running, in any process on any
  machine sharing the database: kind, queue, host, pid, concurrency, handlers running now,
  when each started and when it was last seen (runners write their row every 10s by default)

  --queue        only the runners of this queue
  --stale-after  a runner not seen for this long is left out (e.g. 1m; default three
                 registry heartbeats, 30s)`;

export const runnersCommand: Command = {
  name: 'runners',
  summary: 'list the running runners: host, pid, queue, concurrency, active, last seen',
  usage: USAGE,
  async run(context) {
    const parsed = parseCommand(context.args, { queue: { type: 'string', short: 'q' }, 'stale-after': { type: 'string' } }, 0);
    if (helpRequested(context, parsed, USAGE)) return 0;
    const options: RunnerListOptions = {};
    const queue = parsed.string('queue');
    const staleAfter = parsed.string('stale-after');
    if (queue !== undefined) options.queueName = queue;
    if (staleAfter !== undefined) {
      options.staleAfterMs = parseDuration(staleAfter, '--stale-after', MAX_TIMER);
      if (options.staleAfterMs < 1) throw new UsageError(`--stale-after must be at least 1ms (got '${staleAfter}')`);
    }
    await withStore(context, parsed.string('database'), async (store) => {
      const runners = await store.runnerList(options);
      if (context.out.json) return printJson(context.out, runners);
      if (runners.length === 0) return line(context.out.stdout, 'no runners');
      line(
        context.out.stdout,
        formatTable(
          ['KIND', 'QUEUE', 'HOST', 'PID', 'CONCURRENCY', 'ACTIVE', 'STARTED', 'LAST SEEN'],
          runners.map((runner) => [
            runner.kind,
            runner.queueName === null ? '-' : oneLine(runner.queueName, 40),
            oneLine(runner.host, 40),
            String(runner.pid),
            runner.concurrency === null ? '-' : String(runner.concurrency),
            String(runner.activeCount),
            formatDate(runner.startedAt),
            formatDate(runner.lastSeenAt),
          ]),
        ),
      );
    });
    return 0;
  },
};
