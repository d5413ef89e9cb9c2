/**
 * The ground floor of the TaskStore facade: the database handles, the parts built once over
 * one store context, the schema steps, closing, and `run`, which every public method goes
 * through. The facade's methods are spread over a short chain of classes, one per concern
 * (schedules in lib/schedules/schedule-methods.ts, queue settings in
 * lib/queue/queue-settings-methods.ts, grouped reads in lib/queue/insight-methods.ts, bulk actions in
 * lib/queue/bulk-methods.ts, flows in lib/flows/flow-methods.ts, the runners registry in
 * lib/store/runner-methods.ts, the rest in lib/task-store.ts), so that
 * no file grows past the size a reader takes in at once.
 */
import type { Knex } from 'knex';
import type { AdapterCapabilities } from '../../adapters/adapter.js';
import { TaskStoreError, wrapDatabaseError } from '../foundation/errors.js';
import type { Dialect } from '../foundation/types.js';
import { buildStoreParts, type StoreParts } from './store-parts.js';
import type { ResolvedTaskStoreOptions } from './store-options.js';

export abstract class StoreFacade {
  readonly dialect: Dialect;
  readonly knex: Knex;
  readonly capabilities: AdapterCapabilities;
  readonly tableNames: ResolvedTaskStoreOptions['tables'];
  readonly logger: ResolvedTaskStoreOptions['logger'];
  /** @internal */
  protected readonly options: ResolvedTaskStoreOptions;
  /** @internal */
  protected readonly parts: StoreParts;
  #closed = false;

  protected constructor(options: ResolvedTaskStoreOptions) {
    this.options = options;
    this.parts = buildStoreParts(options);
    this.knex = this.parts.knex;
    this.dialect = this.parts.adapter.dialect;
    this.capabilities = this.parts.adapter.capabilities;
    this.tableNames = options.tables;
    this.logger = options.logger;
  }

  /** Creates what is missing; resolves the names of the steps that changed the schema ([] when up to date). Safe to repeat, from two processes too. */
  migrateUp(): Promise<string[]> {
    return this.run('migrateUp', () => this.parts.migrations.up());
  }

  /** Drops taskstore's tables (and everything in them). Safe to run twice. */
  async migrateDown(): Promise<void> {
    await this.run('migrateDown', () => this.parts.migrations.down());
  }

  /** Closes the connections taskstore opened; a caller's Knex instance is left open. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.parts.hooks.closed();
    await this.parts.metrics.close();
    await this.parts.events.close();
    if (this.parts.ownsKnex) await this.knex.destroy();
  }

  isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Runs one public method's work: refused on a closed store, and driver errors wrapped as
   * TaskStoreError('DATABASE') naming the method.
   * @internal
   */
  protected async run<T>(action: string, work: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new TaskStoreError('INVALID_STATE', `${action}: the store is closed`);
    try {
      return await work();
    } catch (error) {
      throw wrapDatabaseError(error, action);
    }
  }
}
