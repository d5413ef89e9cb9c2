/** The options of createAdminHandler, their defaults and validation. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidArgument } from '../foundation/errors.js';

export interface AdminHandlerOptions {
  /**
   * Where the dashboard is mounted, such as '/admin/tasks'. Links and the CSRF cookie use it;
   * requests outside it get a 404 (or go to `next` when the framework passes one). Default ''.
   */
  basePath?: string;
  /**
   * Decides whether a request may use the dashboard (true) or gets a 403 (false). It may
   * answer the request itself (for example a 401 with WWW-Authenticate), then return false.
   * Default: none, and then only direct loopback requests are served, unless `readOnly` or
   * `allowRemote` says otherwise.
   */
  authorize?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /** Hide every action and refuse every state-changing request. Default false. */
  readOnly?: boolean;
  /**
   * Without `authorize`, serve requests from anywhere, not only from loopback. Only behind
   * something that authenticates already (a VPN, an authenticating proxy). Default false.
   */
  allowRemote?: boolean;
  /**
   * Key of the CSRF tokens. Default: random per handler; give the same secret to every
   * instance behind a load balancer so a token from one is accepted by the others.
   */
  csrfSecret?: string | Buffer;
  /** Queue names always shown on the overview, even while they are empty. Default []. */
  queues?: readonly string[];
  /** Page title. Default 'taskstore'. */
  title?: string;
}

export interface ResolvedAdminHandlerOptions {
  readonly basePath: string;
  readonly authorize: AdminHandlerOptions['authorize'] | null;
  readonly readOnly: boolean;
  readonly allowRemote: boolean;
  readonly csrfSecret: string | Buffer | undefined;
  readonly queues: readonly string[];
  readonly title: string;
}

const KNOWN = ['basePath', 'authorize', 'readOnly', 'allowRemote', 'csrfSecret', 'queues', 'title'];

export function resolveAdminOptions(options: AdminHandlerOptions = {}): ResolvedAdminHandlerOptions {
  if (options === null || typeof options !== 'object') throw invalidArgument('createAdminHandler: options must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) throw invalidArgument(`createAdminHandler: unknown option '${key}' (known: ${KNOWN.join(', ')})`);
  }
  let basePath = options.basePath ?? '';
  if (typeof basePath !== 'string' || (basePath !== '' && !/^\/[A-Za-z0-9._~\-/]*$/.test(basePath))) {
    throw invalidArgument(`createAdminHandler: basePath must be '' or a path like '/admin' (got ${JSON.stringify(options.basePath)})`);
  }
  basePath = basePath.replace(/\/+$/, '');
  if (options.authorize !== undefined && typeof options.authorize !== 'function')
    throw invalidArgument('createAdminHandler: authorize must be a function');
  for (const flag of ['readOnly', 'allowRemote'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean')
      throw invalidArgument(`createAdminHandler: ${flag} must be a boolean`);
  }
  const queues = options.queues ?? [];
  if (!Array.isArray(queues) || queues.some((queue) => typeof queue !== 'string' || queue === '')) {
    throw invalidArgument('createAdminHandler: queues must be an array of queue names');
  }
  if (options.csrfSecret !== undefined && !(typeof options.csrfSecret === 'string' || Buffer.isBuffer(options.csrfSecret))) {
    throw invalidArgument('createAdminHandler: csrfSecret must be a string or a Buffer');
  }
  if (typeof options.csrfSecret === 'string' && options.csrfSecret.length < 16) {
    throw invalidArgument('createAdminHandler: csrfSecret must be at least 16 characters');
  }
  return Object.freeze({
    basePath,
    authorize: options.authorize ?? null,
    readOnly: options.readOnly ?? false,
    allowRemote: options.allowRemote ?? false,
    csrfSecret: options.csrfSecret,
    queues: Object.freeze([...queues]),
    title: options.title ?? 'taskstore',
  });
}
