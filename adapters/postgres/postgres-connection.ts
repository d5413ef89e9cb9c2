/** The PostgreSQL connection: pg needs no settings per connection. */
import type { Knex } from 'knex';

/** The Knex.Config for 'postgres://…' or 'postgresql://…': pg's connection-string parameters apply. */
export function postgresUrlConfig(url: string): Knex.Config {
  return { client: 'pg', connection: { connectionString: url }, pool: { min: 0, max: 10 } };
}

/** A pg Knex.Config as the user gave it: timestamptz columns need no session time zone. */
export function postgresConnectionConfig(config: Knex.Config): Knex.Config {
  return config;
}
