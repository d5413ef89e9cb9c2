/**
 * Where the benchmark runs: one dedicated database per server (never the spec databases),
 * created on first use. Each PostgreSQL system keeps to its own schema inside it.
 *
 *   BENCH_PG_URL     default postgres://postgres@127.0.0.1:5432/taskstore_bench
 *   BENCH_MYSQL_URL  default mysql://root@127.0.0.1:3306/taskstore_bench
 *   BENCH_SQLITE_FILE default .tmp/bench/taskstore.db (relative to the repo root); the SQLite
 *                     raw-SQL floor uses raw-sql.db in the same folder
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { repoRoot } from './environment.js';

export const pgUrl = (): string => process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/taskstore_bench';
export const mysqlUrl = (): string => process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/taskstore_bench';
export const sqliteFile = (): string => resolve(repoRoot(), process.env.BENCH_SQLITE_FILE ?? '.tmp/bench/taskstore.db');
/** Another SQLite file in the folder of taskstore's bench file (the same disk, the same settings). */
export const sqliteFileBeside = (name: string): string => resolve(dirname(sqliteFile()), name);

const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Creates the PostgreSQL database named in `url` if it is missing (via the `postgres` database). */
export async function ensurePostgresDatabase(url = pgUrl()): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
  } finally {
    await client.end();
  }
}

/** Creates the MySQL/MariaDB database named in `url` if it is missing. */
export async function ensureMysqlDatabase(url = mysqlUrl()): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  target.pathname = '/';
  const connection = await mysql.createConnection(target.toString());
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${name.replaceAll('`', '``')}\``);
  } finally {
    await connection.end();
  }
}

export async function ensureSqliteDirectory(file = sqliteFile()): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
}

/** `SHOW server_version` of the benchmark PostgreSQL server, e.g. "15.20 (Debian 15.20-0+deb12u1)". */
export async function postgresVersion(url = pgUrl()): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? 'unknown';
  } finally {
    await client.end();
  }
}
