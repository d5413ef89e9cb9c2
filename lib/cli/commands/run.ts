/**
 * `taskstore run <alias> --key=value …`: runs a registered handler directly, outside the
 * queue (like the Go library's TaskDefinitionExecuteCli). Its log lines go to stdout.
 */
import { parseRunArguments, UsageError } from '../args.js';
import { cliLogger, type Command } from '../command.js';
import { withStore } from '../command.js';
import { loadHandlersModule } from '../handlers-module.js';
import { line, printJson } from '../output.js';
import type { Logger } from '../../foundation/types.js';

const USAGE = `usage: taskstore run <alias> --handlers ./tasks.js [--key=value]…

  runs the handler for <alias> once, in this process, with the given parameters
  (not through the queue: nothing is enqueued; ctx.task is null)
  --key=value   a parameter; '--key=a=b' gives key the value 'a=b'; a bare --flag is 'true'
  --            everything after it is a parameter, even --database or --handlers
  --handlers    the handlers module (default: TASKSTORE_HANDLERS)

exit code: 0 when the handler succeeded, 1 when it failed`;

export const runCommand: Command = {
  name: 'run',
  summary: 'run a task handler directly with --key=value parameters',
  usage: USAGE,
  async run(context) {
    const { positionals, params, options } = parseRunArguments(context.args, {
      database: 'string',
      handlers: 'string',
      help: 'boolean',
      json: 'boolean',
    });
    if (options['help'] === true) {
      context.out.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const json = context.out.json || options['json'] === true;
    const [alias, extra] = positionals;
    if (!alias) throw new UsageError('missing the task alias', { seeHelp: true });
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}' (parameters are --key=value)`);
    const handlersPath = (options['handlers'] as string | undefined) ?? context.env['TASKSTORE_HANDLERS'];
    if (!handlersPath) throw new UsageError('run needs --handlers ./tasks.js (or TASKSTORE_HANDLERS)', { seeHelp: true });
    const handlers = await loadHandlersModule(handlersPath);
    const lines: { level: string; message: string }[] = [];
    const errors = cliLogger(context.out.stderr, { json });
    const logger: Logger = json
      ? {
          debug: () => {},
          info: (message) => lines.push({ level: 'info', message }),
          warn: errors.warn,
          error: (message) => lines.push({ level: 'error', message }),
        }
      : {
          debug: () => {},
          info: (message) => line(context.out.stdout, message),
          warn: errors.warn,
          error: (message) => line(context.out.stderr, message),
        };
    const succeeded = await withStore(
      context,
      options['database'] as string | undefined,
      async (store) => {
        for (const handler of handlers) await store.taskHandlerAdd(handler, true);
        return store.taskHandlerExecute(alias, params);
      },
      { logger },
    );
    if (json) printJson(context.out, { alias, params, success: succeeded, log: lines });
    return succeeded ? 0 : 1;
  },
};
