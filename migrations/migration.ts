/** The shape of one schema step. */
import type { Knex } from 'knex';
import type { Adapter, TableNames } from '../adapters/adapter.js';

export interface MigrationContext {
  readonly tables: TableNames;
  readonly adapter: Adapter;
}

export interface Migration {
  readonly name: string;
  /** Must be idempotent: it may run again on a schema that already has it. */
  up(knex: Knex, context: MigrationContext): Promise<void>;
  down(knex: Knex, context: MigrationContext): Promise<void>;
}
