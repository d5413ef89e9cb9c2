/**
 * What every route sees, and the path helpers the route modules share. A leaf of the
 * dashboard: the handler and the routes import it, it imports none of them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TaskStore } from '../task-store.js';
import type { QueueNames } from './data.js';
import { HttpError, readBody } from './http.js';
import type { ResolvedAdminHandlerOptions } from './options.js';
import type { PageContext } from './pages/layout.js';

/** What a route sees. */
export interface AdminRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly store: TaskStore;
  readonly options: ResolvedAdminHandlerOptions;
  readonly method: string;
  /** The path under basePath, always starting with '/'. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly readOnly: boolean;
  readonly queueNames: QueueNames;
  readonly page: PageContext;
  /** Headers every response carries (the CSRF cookie when it is new). */
  readonly headers: Record<string, string>;
}

/** The decoded segments of a path under basePath ('/tasks/a%20b' gives ['tasks', 'a b']); 400 when malformed. */
export function pathSegments(path: string): string[] {
  try {
    return path
      .split('/')
      .filter(Boolean)
      .map((segment) => decodeURIComponent(segment));
  } catch {
    throw new HttpError(400, 'malformed URL path', 'INVALID_ARGUMENT');
  }
}

/** The request's body as fields, within the dashboard's size and time limits. */
export function requestBody(request: AdminRequest): Promise<Record<string, unknown>> {
  return readBody(request.req, request.options.bodyTimeoutMs);
}
