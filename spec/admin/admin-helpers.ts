/** A dashboard server for the specs, on 127.0.0.1 with a random port, and small clients. */
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { createAdminHandler, type AdminHandlerOptions } from '../../lib/admin/index.js';
import type { TaskStore } from '../../lib/index.js';

export interface TestDashboard {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Serves the dashboard; `prepare` may touch each request first (e.g. set req.body like Express). */
export async function serveDashboard(
  store: TaskStore,
  options: AdminHandlerOptions = {},
  prepare?: (req: IncomingMessage) => Promise<void> | void,
): Promise<TestDashboard> {
  const handler = createAdminHandler(store, options);
  const server = createServer((req, res) => {
    void (async () => {
      await prepare?.(req);
      await handler(req, res, () => {
        res.statusCode = 418;
        res.end('next');
      });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${options.basePath ?? ''}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A client that keeps the CSRF cookie and sends its token on writes. */
export class DashboardClient {
  cookie = '';
  token = '';
  constructor(readonly base: string) {}

  async csrf(): Promise<string> {
    const response = await fetch(`${this.base}/api/csrf`, { headers: this.#headers() });
    this.#keepCookie(response);
    this.token = ((await response.json()) as { token: string }).token;
    return this.token;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const response = await fetch(`${this.base}${path}`, { headers: { ...this.#headers(), ...headers }, redirect: 'manual' });
    this.#keepCookie(response);
    return response;
  }

  async json<T = any>(path: string): Promise<{ status: number; body: T }> {
    const response = await this.get(path);
    return { status: response.status, body: (await response.json()) as T };
  }

  /** A JSON request with the CSRF header (unless csrf: false). */
  async send<T = any>(
    method: string,
    path: string,
    body?: unknown,
    { csrf = true }: { csrf?: boolean } = {},
  ): Promise<{ status: number; body: T }> {
    if (csrf && !this.token) await this.csrf();
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { ...this.#headers(), 'Content-Type': 'application/json', ...(csrf ? { 'X-CSRF-Token': this.token } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** A form post, as the HTML pages send it. */
  async form(path: string, fields: Record<string, string>): Promise<Response> {
    return fetch(`${this.base}${path}`, {
      method: 'POST',
      headers: { ...this.#headers(), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
  }

  #headers(): Record<string, string> {
    return this.cookie ? { Cookie: this.cookie } : {};
  }

  #keepCookie(response: Response): void {
    const set = response.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0] ?? '';
  }
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request with node:http, which (unlike fetch) sends any Host, Origin or Sec-Fetch-Site
 * header it is given. `body` goes out in `chunks` pieces of that size, chunked unless the
 * headers say Content-Length. Resolves with the answer even if the server then closes the
 * connection while the body is still going out.
 */
export function rawRequest(
  url: string,
  {
    method = 'GET',
    headers = {},
    body,
    chunkBytes = 64 * 1024,
  }: { method?: string; headers?: Record<string, string>; body?: Buffer | string; chunkBytes?: number } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = request({ host: target.hostname, port: target.port, method, path: `${target.pathname}${target.search}`, headers });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // A server that answers early and closes makes the rest of our upload fail: that is the point.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const data = typeof body === 'string' ? Buffer.from(body) : (body ?? Buffer.alloc(0));
    let sent = 0;
    const pump = () => {
      while (sent < data.length && !req.destroyed) {
        const chunk = data.subarray(sent, sent + chunkBytes);
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/**
 * A client that sends `head` (and nothing more) over a plain socket and waits for the server
 * to end the connection: resolves with everything the server wrote. It never finishes its
 * request by itself, so it resolves only when the server gives up on it.
 */
export function stalledRequest(url: string, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const socket = connect(Number(target.port), target.hostname, () => socket.write(head));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('close', () => resolve(received));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (received === '') reject(error);
    });
  });
}
