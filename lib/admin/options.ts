/** The options of createAdminHandler, their defaults and validation. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidArgument } from '../foundation/errors.js';
import { withDefaults, type KnownKeys } from '../foundation/options.js';
import { assertBoolean, assertInteger, assertTimerDuration } from '../foundation/validate.js';
import { resolveAllowedHosts, type AllowedHosts } from './hosts.js';

export interface AdminHandlerOptions {
  /**
   * Where the dashboard is mounted, such as '/admin/tasks'. Links and the CSRF cookie use it;
   * requests outside it get a 404 (or go to `next` when the framework passes one).
   * @defaultValue `''` (the root)
   */
  basePath?: string;
  /**
   * Decides whether a request may use the dashboard (true) or gets a 403 (false). It may
   * answer the request itself (for example a 401 with WWW-Authenticate), then return false.
   * @defaultValue none: then only direct loopback requests are served, unless `readOnly` or
   * `allowRemote` says otherwise
   */
  authorize?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /**
   * Hide every action and refuse every state-changing request.
   * @defaultValue `false`
   */
  readOnly?: boolean;
  /**
   * Without `authorize`, serve requests from anywhere, not only from loopback. Only behind
   * something that authenticates already (a VPN, an authenticating proxy). Remote clients
   * still reach it only under a name in `allowedHosts`.
   * @defaultValue `false`
   */
  allowRemote?: boolean;
  /**
   * Host names the dashboard answers to besides loopback ones (localhost, *.localhost,
   * 127.0.0.0/8, [::1]), which it always answers to. Each entry is a host name or an IP
   * address without a port, matched case-insensitively whatever the port: 'tasks.example.com',
   * '10.0.0.5', or '.example.com' for example.com and every name under it. A request for any
   * other Host gets a 421 and no data (this stops DNS rebinding). `true` accepts every Host:
   * only behind a proxy that itself accepts only your names.
   * @defaultValue `[]`: loopback names and addresses only
   */
  allowedHosts?: true | readonly string[];
  /**
   * How long the handler waits for a request body, from when it starts reading it. A body
   * still incomplete then gets a 408 and the connection is closed.
   * @defaultValue `20000` (20 s)
   */
  bodyTimeoutMs?: number;
  /**
   * Key of the CSRF tokens (a string of at least 16 characters, or a Buffer of at least 16 bytes). Give the same
   * secret to every instance behind a load balancer so a token from one is accepted by the others.
   * @defaultValue random per handler
   */
  csrfSecret?: string | Buffer;
  /**
   * Queue names always shown on the overview, even while they are empty.
   * @defaultValue `[]`
   */
  queues?: readonly string[];
  /**
   * The most tasks the dashboard counts in one group: a queue and status, a definition and
   * status, a filtered task list. Past it a count shows as `10000+` (the JSON API lists the
   * group in `capped`); reading a count costs at most this many index entries, however many
   * tasks the table holds. A whole number from 1 to 1,000,000.
   * @defaultValue `10000`
   */
  countCap?: number;
  /**
   * Page title.
   * @defaultValue `'taskstore'`
   */
  title?: string;
  /**
   * What the 403 for a request from another machine advises (when neither `authorize`,
   * `readOnly` nor `allowRemote` lets it in). `taskstore dashboard` names its own flags here.
   * @defaultValue `'Pass authorize(req) to createAdminHandler, or readOnly: true, or allowRemote: true to serve it anyway.'`
   */
  remoteRefusalHint?: string;
}

export interface ResolvedAdminHandlerOptions {
  readonly basePath: string;
  readonly authorize: AdminHandlerOptions['authorize'] | null;
  readonly readOnly: boolean;
  readonly allowRemote: boolean;
  readonly allowedHosts: AllowedHosts;
  readonly bodyTimeoutMs: number;
  readonly csrfSecret: string | Buffer | undefined;
  readonly queues: readonly string[];
  readonly countCap: number;
  readonly title: string;
  readonly remoteRefusalHint: string;
}

const KNOWN = {
  basePath: true,
  authorize: true,
  readOnly: true,
  allowRemote: true,
  allowedHosts: true,
  bodyTimeoutMs: true,
  csrfSecret: true,
  queues: true,
  countCap: true,
  title: true,
  remoteRefusalHint: true,
} as const satisfies KnownKeys<AdminHandlerOptions>;

const DEFAULTS = Object.freeze({
  basePath: '',
  readOnly: false,
  allowRemote: false,
  allowedHosts: Object.freeze([]) as readonly string[],
  bodyTimeoutMs: 20_000,
  queues: Object.freeze([]) as readonly string[],
  countCap: 10_000,
  title: 'taskstore',
  remoteRefusalHint: 'Pass authorize(req) to createAdminHandler, or readOnly: true, or allowRemote: true to serve it anyway.',
});

const NAME = 'createAdminHandler';

export function resolveAdminOptions(options?: AdminHandlerOptions): ResolvedAdminHandlerOptions {
  const merged = withDefaults(options, KNOWN, DEFAULTS, `${NAME}: options`);
  const basePath: unknown = merged.basePath;
  if (typeof basePath !== 'string' || (basePath !== '' && !/^\/[A-Za-z0-9._~\-/]*$/.test(basePath))) {
    throw invalidArgument(`${NAME}: basePath must be '' or a path like '/admin' (got ${JSON.stringify(basePath)})`);
  }
  if (merged.authorize !== undefined && typeof merged.authorize !== 'function')
    throw invalidArgument(`${NAME}: authorize must be a function`);
  assertBoolean(merged.readOnly, `${NAME}: readOnly`);
  assertBoolean(merged.allowRemote, `${NAME}: allowRemote`);
  const csrfSecret: unknown = merged.csrfSecret;
  if (csrfSecret !== undefined && !(typeof csrfSecret === 'string' || Buffer.isBuffer(csrfSecret))) {
    throw invalidArgument(`${NAME}: csrfSecret must be a string or a Buffer`);
  }
  if (typeof csrfSecret === 'string' && csrfSecret.length < 16) {
    throw invalidArgument(`${NAME}: csrfSecret must be at least 16 characters (got ${csrfSecret.length})`);
  }
  if (Buffer.isBuffer(csrfSecret) && csrfSecret.length < 16) {
    throw invalidArgument(`${NAME}: csrfSecret must be at least 16 bytes (got a Buffer of ${csrfSecret.length})`);
  }
  const allowedHosts = resolveAllowedHosts(merged.allowedHosts, `${NAME}: allowedHosts`);
  assertTimerDuration(merged.bodyTimeoutMs, `${NAME}: bodyTimeoutMs`, 1);
  const queues: unknown = merged.queues;
  if (!Array.isArray(queues) || queues.some((queue) => typeof queue !== 'string' || queue === '')) {
    throw invalidArgument(`${NAME}: queues must be an array of queue names`);
  }
  assertInteger(merged.countCap, `${NAME}: countCap`, 1, 1_000_000);
  const title: unknown = merged.title;
  if (typeof title !== 'string') throw invalidArgument(`${NAME}: title must be a string (got ${JSON.stringify(title) ?? typeof title})`);
  const remoteRefusalHint: unknown = merged.remoteRefusalHint;
  if (typeof remoteRefusalHint !== 'string') throw invalidArgument(`${NAME}: remoteRefusalHint must be a string`);
  return Object.freeze({
    basePath: basePath.replace(/\/+$/, ''),
    authorize: merged.authorize ?? null,
    readOnly: merged.readOnly,
    allowRemote: merged.allowRemote,
    allowedHosts,
    bodyTimeoutMs: merged.bodyTimeoutMs,
    csrfSecret: merged.csrfSecret,
    queues: Object.freeze([...(queues as string[])]),
    countCap: merged.countCap,
    title,
    remoteRefusalHint,
  });
}
