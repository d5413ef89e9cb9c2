/**
 * The event base of the runners: typed events, listeners called one by one so a listener
 * that throws is logged and cannot stop the loop, and `error` that falls back to the logger
 * when nobody listens (an unheard EventEmitter 'error' would crash the process).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../lib/foundation/types.js';

/**
 * The events of an emitter, by name: each name to its listener's arguments, `error` among
 * them. Checked over the map's own keys, so a map without an index signature (an interface)
 * fits, and a misspelt event name does not compile.
 */
export type EventMap<Events> = { [K in keyof Events]: unknown[] } & { error: [error: Error] };

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface below
export abstract class SafeEmitter<Events extends EventMap<Events>> extends EventEmitter {
  /** Where listener failures and unheard errors go. */
  protected abstract get emitterLogger(): Logger;
  /** How log lines name this emitter, e.g. "runner for queue 'emails'". */
  protected abstract get emitterName(): string;

  protected emitSafely<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
    for (const listener of this.rawListeners(event)) {
      try {
        (listener as (...values: unknown[]) => void).apply(this, args);
      } catch (error) {
        this.emitterLogger.error(`a '${event}' listener of the ${this.emitterName} threw`, error);
      }
    }
  }

  protected emitError(error: unknown): void {
    const wrapped = error instanceof Error ? error : new Error(String(error));
    if (this.listenerCount('error') === 0) this.emitterLogger.error(`${this.emitterName}: ${wrapped.message}`, wrapped);
    else this.emitSafely('error', ...([wrapped] as Events['error']));
  }
}

// Typed listeners for subclasses' events: the interface narrows EventEmitter's own methods.
export interface SafeEmitter<Events extends EventMap<Events>> {
  on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this;
  once<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this;
  off<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this;
}
