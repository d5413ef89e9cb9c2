/** What every part of a store shares: the database, its adapter, table names and a clock. */
import type { Knex } from 'knex';
import type { Adapter, TableNames } from '../../adapters/adapter.js';
import type { PayloadLimits } from '../foundation/limits.js';
import type { Logger } from '../foundation/types.js';
import type { StoreHooks } from './store-hooks.js';

export interface StoreContext {
  readonly knex: Knex;
  readonly adapter: Adapter;
  readonly tables: TableNames;
  readonly logger: Logger;
  /** Claims, heartbeats and finishing writes may commit without waiting for the log flush. */
  readonly asyncStateCommits: boolean;
  /** taskstore opened the connections and prepared their sessions (see ClaimRequest.preparedSession). */
  readonly preparedSessions: boolean;
  /** Sizes of parameters, output and details (TaskStore options). */
  readonly limits: PayloadLimits;
  /** The hooks of TaskStore.open (`hooks`), chained; their `enqueue` and `process` are null when none wraps those. */
  readonly hooks: StoreHooks;
  /** The application clock, in one place (UTC instants; see docs/concepts.md on clocks). */
  now(): Date;
}

export const SILENT_LOGGER: Logger = Object.freeze({ debug() {}, info() {}, warn() {}, error() {} });
