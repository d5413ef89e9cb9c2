/**
 * Registering a handler: the handler joins this process's registry, and its definition is
 * made to exist and to match the handler's title, description and maxAttempts.
 */
import { TaskStoreError, invalidArgument, notFound } from '../foundation/errors.js';
import type { TaskDefinition } from '../foundation/types.js';
import type { HandlerRegistry } from './handler-registry.js';
import type { TaskHandler } from './handler.js';
import type { TaskDefinitions } from './task-definitions.js';

/**
 * Finds the handler's definition (created when `createIfMissing`, else NOT_FOUND), brings its
 * title, description and maxAttempts in line with the handler, then registers the handler.
 */
export async function registerHandler(
  definitions: TaskDefinitions,
  handlers: HandlerRegistry,
  handler: TaskHandler,
  createIfMissing: boolean,
): Promise<TaskDefinition> {
  if (handler === null || typeof handler !== 'object' || typeof handler.handle !== 'function') {
    throw invalidArgument('taskHandlerAdd: handler must come from defineTask()');
  }
  const wanted = { title: handler.title, description: handler.description, maxAttempts: handler.maxAttempts };
  let definition = await definitions.findByAlias(handler.alias);
  if (!definition) {
    if (!createIfMissing) throw notFound(`no task definition with alias '${handler.alias}' (pass createIfMissing to create it)`);
    try {
      definition = await definitions.create({ alias: handler.alias, ...wanted });
    } catch (error) {
      // Another process registered the same handler a moment ago.
      if (!(error instanceof TaskStoreError && error.code === 'ALREADY_EXISTS')) throw error;
      definition = await definitions.findByAlias(handler.alias);
      if (!definition) throw error;
    }
  }
  const current = definition;
  const stale = (Object.keys(wanted) as (keyof typeof wanted)[]).some((key) => current[key] !== wanted[key]);
  if (stale) definition = await definitions.update({ id: current.id, ...wanted });
  handlers.add(handler);
  return definition;
}
