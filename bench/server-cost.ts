/**
 * Where PostgreSQL spends its time on a drain: the server's own CPU per task (the backends'
 * utime + stime from /proc, nothing of node's), for taskstore's claim and finish statements on
 * its migrated table, the same with one index or one habit taken away, and the raw-SQL floor.
 *
 *   node bench/dist/bench/server-cost.js [--jobs 40000] [--rounds 3] [--async] [--database taskstore_cost]
 *                                        [--variants 0,3 (their places in VARIANTS; default all)]
 *
 * Every variant drains the same number of rows with 10 loops of claim 50 / finish 50 on one
 * connection each, calling the adapter's own statements (`postgresAdapter.claim` and
 * `.finish`), synchronous commits unless --async. The table is taskstore's, made by
 * `TaskStore.open` in a database of its own (`taskstore_cost`), emptied and refilled per run
 * and ANALYZEd before each drain. Variants only drop an index or change a column, so each
 * line answers "what does this cost the server per task". Medians over the rounds.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import knexFactory from 'knex';
import { postgresAdapter } from '../adapters/postgres/postgres-adapter.js';
import { TaskStore } from '../lib/index.js';
import { ensurePostgresDatabase, pgUrl } from './databases.js';

const LOOPS = 10;
const BATCH = 50;
const QUEUE = 'cost';

interface Variant {
  readonly name: string;
  /** DDL run on the freshly migrated table (named `task_queue`). */
  readonly ddl: readonly string[];
}

const VARIANTS: readonly Variant[] = [
  { name: 'taskstore table as migrated', ddl: [] },
  { name: 'without the task_id index', ddl: ['DROP INDEX task_queue_task_id_status_idx'] },
  { name: 'without the running-rows index', ddl: ['DROP INDEX task_queue_running_idx'] },
  {
    name: 'flow_id index partial (flow_id IS NOT NULL)',
    ddl: ['DROP INDEX task_queue_flow_id_idx', 'CREATE INDEX task_queue_flow_id_idx ON task_queue (flow_id) WHERE flow_id IS NOT NULL'],
  },
  {
    name: 'flow_id partial, without the task_id index',
    ddl: [
      'DROP INDEX task_queue_flow_id_idx',
      'CREATE INDEX task_queue_flow_id_idx ON task_queue (flow_id) WHERE flow_id IS NOT NULL',
      'DROP INDEX task_queue_task_id_status_idx',
    ],
  },
  {
    name: 'id, task_id, claim_token in COLLATE "C"',
    ddl: ['id', 'task_id', 'claim_token'].map((column) => `ALTER TABLE task_queue ALTER COLUMN ${column} TYPE varchar(36) COLLATE "C"`),
  },
  {
    name: 'all three changes above',
    ddl: [
      'DROP INDEX task_queue_task_id_status_idx',
      'DROP INDEX task_queue_running_idx',
      ...['id', 'task_id', 'claim_token'].map((column) => `ALTER TABLE task_queue ALTER COLUMN ${column} TYPE varchar(36) COLLATE "C"`),
    ],
  },
  { name: 'without the status/queue counting index (008)', ddl: ['DROP INDEX task_queue_status_queue_idx'] },
];

const costUrl = (database: string): string => {
  const url = new URL(pgUrl());
  url.pathname = `/${database}`;
  return url.toString();
};

/** CPU time of a process so far, in microseconds (utime + stime from /proc/<pid>/stat). */
function cpuMicros(pid: number): number {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

interface Measured {
  jobsPerSecond: number;
  serverUsPerTask: number;
}

async function connections(url: string): Promise<(pg.Client & { pid: number })[]> {
  return Promise.all(
    Array.from({ length: LOOPS }, async () => {
      const client = new pg.Client({ connectionString: url }) as pg.Client & { pid: number };
      await client.connect();
      client.pid = Number((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
      return client;
    }),
  );
}

/** Drains `jobs` rows of taskstore's table through the adapter's statements. */
async function drainTaskstore(url: string, variant: Variant, jobs: number, asyncCommit: boolean): Promise<Measured> {
  const store = await TaskStore.open({ database: url });
  await store.knex.raw('DROP TABLE IF EXISTS task_queue CASCADE');
  await store.migrateUp();
  for (const statement of variant.ddl) await store.knex.raw(statement);
  const definition = await store.taskDefinitionCreate({ alias: `cost-${randomUUID()}`, title: 'cost' });
  for (let from = 0; from < jobs; from += 1000) {
    const size = Math.min(1000, jobs - from);
    await store.taskDefinitionEnqueueManyByAlias(
      QUEUE,
      definition.alias,
      Array.from({ length: size }, (_, k) => ({ i: from + k })),
    );
  }
  await store.knex.raw('ANALYZE task_queue');
  await store.knex.raw('CHECKPOINT');
  await store.close();

  // One Knex per loop, pinned to a single connection, so the backend PIDs are the ones measured.
  const loops = Array.from({ length: LOOPS }, () => knexFactory({ client: 'pg', connection: url, pool: { min: 1, max: 1 } }));
  const pids = await Promise.all(
    loops.map(async (knex) => Number(((await knex.raw('SELECT pg_backend_pid() AS pid')) as { rows: { pid: number }[] }).rows[0]?.pid)),
  );
  const before = pids.map(cpuMicros);
  const started = performance.now();
  let done = 0;
  await Promise.all(
    loops.map(async (knex) => {
      for (;;) {
        const now = new Date();
        const token = randomUUID();
        const rows = await postgresAdapter.claim(knex, 'task_queue', {
          queueName: QUEUE,
          limit: BATCH,
          now,
          token,
          startedLine: '2026-01-01 00:00:00 : Task started',
          asyncCommit,
          preparedSession: true,
        });
        if (rows.length === 0) return;
        const finished = await postgresAdapter.finish(knex, 'task_queue', {
          items: rows.map((row) => ({ id: String(row['id']), token })),
          status: 'success',
          remove: false,
          output: '',
          details: '2026-01-01 00:00:00 : Task completed',
          availableAt: null,
          now: new Date(),
          asyncCommit,
        });
        done += finished.size;
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  const server = pids.reduce((sum, pid, i) => sum + cpuMicros(pid) - (before[i] ?? 0), 0);
  await Promise.all(loops.map((knex) => knex.destroy()));
  if (done !== jobs) throw new Error(`${variant.name}: finished ${done} of ${jobs}`);
  return { jobsPerSecond: (done / elapsedMs) * 1000, serverUsPerTask: server / done };
}

/** The raw-SQL floor of bench/systems/raw-sql.ts, on the same harness: narrow table, bigint ids. */
async function drainRaw(url: string, jobs: number, asyncCommit: boolean): Promise<Measured> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP TABLE IF EXISTS raw_jobs;
    CREATE TABLE raw_jobs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, queue text NOT NULL, payload jsonb NOT NULL,
      state text NOT NULL DEFAULT 'queued', run_at timestamptz NOT NULL DEFAULT now(), attempts int NOT NULL DEFAULT 0,
      locked_at timestamptz, completed_at timestamptz);
    CREATE INDEX raw_jobs_claimable ON raw_jobs (queue, run_at, id) WHERE state = 'queued';`);
  await admin.query(`INSERT INTO raw_jobs (queue, payload) SELECT $1, jsonb_build_object('i', g) FROM generate_series(1, $2::int) AS g`, [
    QUEUE,
    jobs,
  ]);
  await admin.query('ANALYZE raw_jobs');
  await admin.query('CHECKPOINT');
  await admin.end();
  const clients = await connections(url);
  const off = asyncCommit ? 'SET synchronous_commit = off' : 'SELECT 1';
  for (const client of clients) await client.query(off);
  const before = clients.map((client) => cpuMicros(client.pid));
  const started = performance.now();
  let done = 0;
  await Promise.all(
    clients.map(async (client) => {
      for (;;) {
        const { rows } = await client.query<{ id: string }>({
          name: 'claim',
          text: `UPDATE raw_jobs SET state = 'running', locked_at = now(), attempts = attempts + 1 WHERE id IN (
                   SELECT id FROM raw_jobs WHERE queue = $1 AND state = 'queued' AND run_at <= now()
                   ORDER BY run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id, payload`,
          values: [QUEUE, BATCH],
        });
        if (rows.length === 0) return;
        const result = await client.query({
          name: 'complete',
          text: `UPDATE raw_jobs SET state = 'completed', completed_at = now() WHERE id = ANY($1::bigint[])`,
          values: [rows.map((row) => row.id)],
        });
        done += result.rowCount ?? 0;
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  const server = clients.reduce((sum, client, i) => sum + cpuMicros(client.pid) - (before[i] ?? 0), 0);
  for (const client of clients) await client.end();
  return { jobsPerSecond: (done / elapsedMs) * 1000, serverUsPerTask: server / done };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string', default: '40000' },
      rounds: { type: 'string', default: '3' },
      async: { type: 'boolean', default: false },
      database: { type: 'string', default: 'taskstore_cost' },
      variants: { type: 'string', default: '' },
    },
  });
  // --variants 0,3: only these (by their place in VARIANTS), beside the floor.
  const picked = values.variants === '' ? VARIANTS : values.variants.split(',').map((at) => VARIANTS[Number(at)] as Variant);
  const jobs = Number(values.jobs);
  const rounds = Number(values.rounds);
  const asyncCommit = values.async ?? false;
  const url = costUrl(values.database ?? 'taskstore_cost');
  await ensurePostgresDatabase(url);
  const results = new Map<string, Measured[]>();
  const record = (name: string, measured: Measured) => {
    results.set(name, [...(results.get(name) ?? []), measured]);
    process.stderr.write(`${name}: ${Math.round(measured.jobsPerSecond)} jobs/s, server ${measured.serverUsPerTask.toFixed(1)} µs/task\n`);
  };
  for (let round = 1; round <= rounds; round++) {
    for (const variant of picked) record(variant.name, await drainTaskstore(url, variant, jobs, asyncCommit));
    record('raw-SQL floor (narrow table, bigint ids)', await drainRaw(url, jobs, asyncCommit));
  }
  const commit = asyncCommit ? 'asynchronous commits' : 'synchronous commits';
  process.stdout.write(
    `\nPostgreSQL server CPU per task, claim ${BATCH} / finish ${BATCH} × ${LOOPS} loops, ${jobs} rows, ${commit}, medians of ${rounds}\n\n`,
  );
  process.stdout.write('| variant | server CPU (µs/task) | drain (jobs/s) |\n|---|---|---|\n');
  for (const [name, measured] of results) {
    const cpu = median(measured.map((m) => m.serverUsPerTask)).toFixed(1);
    process.stdout.write(`| ${name} | ${cpu} | ${Math.round(median(measured.map((m) => m.jobsPerSecond))).toLocaleString('en-US')} |\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`server-cost: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
