/** The handlers this process can run, keyed by normalised alias: one per alias, latest wins. */
import { invalidArgument } from '../foundation/errors.js';
import { normalizeAlias, type TaskHandler } from './handler.js';

export class HandlerRegistry {
  readonly #handlers = new Map<string, TaskHandler>();

  add(handler: TaskHandler): void {
    if (handler === null || typeof handler !== 'object' || typeof handler.handle !== 'function' || typeof handler.alias !== 'string') {
      throw invalidArgument('taskHandlerAdd: handler must come from defineTask()');
    }
    this.#handlers.set(normalizeAlias(handler.alias), handler);
  }

  find(alias: string): TaskHandler | undefined {
    return this.#handlers.get(normalizeAlias(alias));
  }

  list(): TaskHandler[] {
    return [...this.#handlers.values()];
  }
}
