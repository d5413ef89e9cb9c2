/** The shape of one schema step. */
import type { Knex } from 'knex';
import type { Adapter, TableNames } from '../adapters/adapter.js';

export interface MigrationContext {
  readonly tables: TableNames;
  readonly adapter: Adapter;
}

export interface Migration {
  readonly name: string;
  /** Must be idempotent: it may run again on a schema that already has it. Resolves true when it changed the schema. */
  up(knex: Knex, context: MigrationContext): Promise<boolean>;
  down(knex: Knex, context: MigrationContext): Promise<void>;
}
