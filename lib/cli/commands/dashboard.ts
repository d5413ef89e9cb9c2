/**
 * `taskstore dashboard`: serves the admin dashboard (and, with --queue, works queues too)
 * until SIGINT/SIGTERM.
 */
import { parseInteger, UsageError } from '../args.js';
import { helpRequested, parseCommand, withStore, type Command } from '../command.js';
import { allowedHostsFrom, startDashboardServer, WILDCARD_HOSTS } from '../dashboard-server.js';
import { line } from '../output.js';
import { ProgressLine } from '../progress.js';
import { watchShutdownSignals } from '../signals.js';
import { isLoopbackAddress } from '../../admin/security.js';
import { registerHandlers, runUntilSignal, WORK_OPTIONS, workersFrom, workSettings } from './work.js';

const USAGE = `usage: taskstore dashboard [--port 3000] [--host 127.0.0.1] [--handlers ./tasks.js] [--queue name]…
                           [--base-path /admin] [--read-only] [--allow-remote] [--allowed-host name]…

  --port          port (default 3000; 0 picks a free one)
  --host          address to listen on (default 127.0.0.1)
  --handlers      register this module's handlers (creates their definitions)
  --queue         also work this queue in the same process; repeatable (needs --handlers)
  --concurrency   with --queue: handlers at once per queue (default 1)
  --base-path     serve under this path (default /)
  --read-only     no actions: nothing can be changed from the dashboard
  --allow-remote  serve clients that are not on this machine, with actions (only behind
                  something that authenticates them: the CLI has no login)
  --allowed-host  also answer to this host name or address (no port; '.example.com' for
                  every name under example.com; '*' for any, behind a proxy that checks
                  it); repeatable

Without --allow-remote, requests from other machines are refused (403), or served
read-only with --read-only. The dashboard answers only to loopback names (localhost,
127.0.0.1, [::1]), the --host address and the --allowed-host names; a request for
another name gets 421.`;

/** The advice of the 403 a request from another machine gets: this command's flags. */
const REMOTE_REFUSAL_HINT =
  'Start taskstore dashboard with --read-only to serve it read-only, or with --allow-remote to serve it with actions ' +
  '(only behind something that authenticates: the CLI has no login).';

export const dashboardCommand: Command = {
  name: 'dashboard',
  summary: 'serve the admin dashboard',
  usage: USAGE,
  async run(context) {
    const parsed = parseCommand(
      context.args,
      {
        ...WORK_OPTIONS,
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        'base-path': { type: 'string' },
        'read-only': { type: 'boolean' },
        'allow-remote': { type: 'boolean' },
        'allowed-host': { type: 'string', multiple: true },
      },
      0,
    );
    if (helpRequested(context, parsed, USAGE)) return 0;
    const port = parseInteger(parsed.string('port') ?? '3000', '--port', 0, 65535);
    const host = parsed.string('host') ?? '127.0.0.1';
    const handlersPath = parsed.string('handlers') ?? context.env['TASKSTORE_HANDLERS'];
    if (parsed.list('queue').length > 0 && !handlersPath) throw new UsageError('dashboard --queue needs --handlers to run tasks');
    const allowedHosts = allowedHostsFrom(host, parsed.list('allowed-host'));
    const settings = workSettings(parsed, []);
    await withStore(context, parsed.string('database'), async (store) => {
      if (handlersPath) await registerHandlers(store, handlersPath);
      const progress = new ProgressLine(context.out.stdout, false);
      const dashboard = await startDashboardServer(store, {
        host,
        port,
        readOnly: parsed.flag('read-only'),
        allowRemote: parsed.flag('allow-remote'),
        allowedHosts,
        remoteRefusalHint: REMOTE_REFUSAL_HINT,
        ...(parsed.string('base-path') ? { basePath: parsed.string('base-path') as string } : {}),
      });
      try {
        // Printed once a signal is handled: a Ctrl-C right after "Ctrl-C to stop" stops gracefully.
        const announce = () => {
          line(context.out.stdout, `dashboard on ${dashboard.url} (${store.dialect}); Ctrl-C to stop`);
          if (!isLoopbackAddress(host) && host !== 'localhost' && !parsed.flag('allow-remote')) {
            line(
              context.out.stderr,
              `taskstore: note: only requests from this machine are served${parsed.flag('read-only') ? '' : ' (others get 403; see --read-only, --allow-remote)'}`,
            );
          }
          if (
            WILDCARD_HOSTS.has(host) &&
            parsed.list('allowed-host').length === 0 &&
            (parsed.flag('allow-remote') || parsed.flag('read-only'))
          ) {
            line(
              context.out.stderr,
              'taskstore: note: other machines must use a name given with --allowed-host (the name or address they open); any other gets 421',
            );
          }
        };
        if (parsed.list('queue').length > 0) {
          await runUntilSignal(context, workersFrom(store, settings, progress), progress, { announce });
        } else {
          const watch = watchShutdownSignals();
          try {
            announce();
            await watch.signaled;
          } finally {
            watch.dispose();
          }
        }
      } finally {
        await dashboard.close();
      }
      line(context.out.stdout, 'dashboard stopped');
    });
    return 0;
  },
};
