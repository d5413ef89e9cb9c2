/** A node:http server for the dashboard, as `taskstore dashboard` and `taskstore demo` run it. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminHandler } from '../admin/index.js';
import type { AdminHandlerOptions } from '../admin/options.js';
import type { TaskStore } from '../task-store.js';

export interface DashboardServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

export async function startDashboardServer(
  store: TaskStore,
  { host, port, ...options }: AdminHandlerOptions & { host: string; port: number },
): Promise<DashboardServer> {
  const handler = createAdminHandler(store, options);
  const server = createServer((req, res) => void handler(req, res));
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
