/**
 * A node:http server for the dashboard, as `taskstore dashboard` and `taskstore demo` run it,
 * with timeouts for slow clients and the host names it answers to.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { normalizeHostEntry } from '../admin/hosts.js';
import { createAdminHandler } from '../admin/index.js';
import type { AdminHandlerOptions } from '../admin/options.js';
import type { TaskStore } from '../task-store.js';
import { UsageError } from './args.js';

export interface DashboardServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

/** Listening on every interface: no one name to answer to. */
export const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

/**
 * allowedHosts from --allowed-host, plus the --host name or address when it is a specific
 * one (the dashboard is reached there). '*' anywhere means any Host.
 */
export function allowedHostsFrom(listenHost: string, given: readonly string[]): true | string[] {
  for (const name of given) {
    if (name !== '*' && normalizeHostEntry(name) === null)
      throw new UsageError(
        `--allowed-host: '${name}' is not a host name or address (no scheme or port: tasks.example.com, .example.com, 10.0.0.5)`,
      );
  }
  if (given.includes('*')) return true;
  const hosts = [...given];
  if (!WILDCARD_HOSTS.has(listenHost) && normalizeHostEntry(listenHost) !== null) hosts.push(listenHost);
  return hosts;
}

/** How long a client may take to send the request headers (node's `server.headersTimeout`). */
export const HEADERS_TIMEOUT_MS = 10_000;
/** How long a client may take to send a whole request, body included (node's `server.requestTimeout`). */
export const REQUEST_TIMEOUT_MS = 30_000;

export interface DashboardServerOptions extends AdminHandlerOptions {
  host: string;
  port: number;
  /** @defaultValue HEADERS_TIMEOUT_MS */
  headersTimeoutMs?: number;
  /** @defaultValue REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number;
}

/**
 * Serves the dashboard on host:port. A client that is slower than the timeouts gets a 408 and
 * its connection closed (node checks them every second, or more often for shorter ones).
 */
export async function startDashboardServer(
  store: TaskStore,
  { host, port, headersTimeoutMs = HEADERS_TIMEOUT_MS, requestTimeoutMs = REQUEST_TIMEOUT_MS, ...options }: DashboardServerOptions,
): Promise<DashboardServer> {
  const handler = createAdminHandler(store, options);
  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      requestTimeout: Math.max(requestTimeoutMs, headersTimeoutMs),
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
    },
    (req, res) => void handler(req, res),
  );
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`cannot listen on ${host}:${port}: the port is in use (pick another with --port)`)
          : new Error(`cannot listen on ${host}:${port}: ${error.message}`),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shownHost}:${address.port}${options.basePath ?? ''}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
