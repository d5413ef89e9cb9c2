/**
 * Loads a handlers module for `work`, `run` and `dashboard`: a JavaScript module whose
 * default export is a handler or an array of handlers, and/or whose named exports are
 * handlers made with defineTask. A module that throws while it loads is named in the error.
 */
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TaskHandler } from '../definitions/handler.js';
import { UsageError } from './args.js';

function isHandler(value: unknown): value is TaskHandler {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { alias?: unknown }).alias === 'string' &&
    typeof (value as { handle?: unknown }).handle === 'function'
  );
}

/** The handlers of the module at `path` (relative to the working directory), each alias once. */
export async function loadHandlersModule(path: string, cwd = process.cwd()): Promise<TaskHandler[]> {
  const file = resolve(cwd, path);
  try {
    await access(file);
  } catch {
    throw new UsageError(`--handlers: ${path} does not exist`);
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    // A runtime error (exit 1), not a usage error: the module exists but fails as it loads.
    const reason = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
    throw new Error(`could not load handlers module ${path}: ${reason}`, { cause: error });
  }
  const found: TaskHandler[] = [];
  const take = (value: unknown) => {
    if (isHandler(value)) found.push(value);
    else if (Array.isArray(value)) for (const entry of value) if (isHandler(entry)) found.push(entry);
  };
  take(module['default']);
  for (const [name, value] of Object.entries(module)) if (name !== 'default') take(value);
  const byAlias = new Map(found.map((handler) => [handler.alias, handler]));
  if (byAlias.size === 0) {
    throw new UsageError(`--handlers: ${path} exports no handlers (export defineTask(…) results, or a default array of them)`);
  }
  return [...byAlias.values()];
}
