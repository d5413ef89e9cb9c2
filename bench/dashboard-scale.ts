/**
 * The dashboard at scale: every page and JSON endpoint timed against a queue table of a
 * million rows and 500 definitions, on each dialect.
 *
 *   node bench/dist/bench/dashboard-scale.js [--dialects sqlite,postgres,mysql] [--rows 1000000]
 *                                             [--definitions 500] [--repeat 5]
 *                                             [--database taskstore_scale] [--sqlite-file .tmp/bench/scale.db]
 *                                             [--seed-only]
 *
 * Each dialect gets a database of its own (`--database`, default `taskstore_scale`, on the
 * servers of BENCH_PG_URL / BENCH_MYSQL_URL; `--sqlite-file` for SQLite), filled once and
 * reused by later runs (opening it applies taskstore's migrations): 500 definitions; tasks over 5 queues, 88% succeeded, 5%
 * failed, 3% queued, 2% canceled, 2% running, completed over the last two days; a day of
 * per-minute metrics as workers would have recorded them. ANALYZEd, then each path is asked
 * once to warm up and `repeat` times more, one request at a time; the table shows the median
 * and the slowest answer in milliseconds.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { v7 as uuidv7 } from 'uuid';
import { createAdminHandler } from '../lib/admin/index.js';
import { TaskStore } from '../lib/index.js';
import { HISTOGRAM_BOUNDS_MS } from '../lib/queue/queue-metrics.js';
import { ensureMysqlDatabase, ensurePostgresDatabase, ensureSqliteDirectory, mysqlUrl, pgUrl } from './databases.js';
import { repoRoot } from './environment.js';
import { DIALECTS, type Dialect } from './harness.js';

const QUEUES = ['default', 'emails', 'media', 'reports', 'billing'];
const MINUTE_MS = 60_000;

function databaseOf(dialect: Dialect, database: string, sqliteFile: string): string {
  const rename = (url: string) => {
    const target = new URL(url);
    target.pathname = `/${database}`;
    return target.toString();
  };
  if (dialect === 'postgres') return rename(pgUrl());
  if (dialect === 'mysql') return rename(mysqlUrl());
  return `sqlite:${resolve(repoRoot(), sqliteFile)}`;
}

async function ensureDatabase(dialect: Dialect, url: string): Promise<void> {
  if (dialect === 'postgres') await ensurePostgresDatabase(url);
  else if (dialect === 'mysql') await ensureMysqlDatabase(url);
  else await ensureSqliteDirectory(url.slice('sqlite:'.length));
}

/** The status of the n-th seeded task: 88% success, 5% failed, 3% queued, 2% canceled, 2% running. */
function statusOf(n: number): string {
  const r = (n * 7919) % 100;
  return r < 88 ? 'success' : r < 93 ? 'failed' : r < 96 ? 'queued' : r < 98 ? 'canceled' : 'running';
}

async function seed(store: TaskStore, rows: number, definitionCount: number, log: (line: string) => void): Promise<void> {
  for (let i = await store.taskDefinitionCount(); i < definitionCount; i++) {
    await store.taskDefinitionCreate({ alias: `Scale${String(i).padStart(3, '0')}`, title: `Scale definition ${i}` });
  }
  const definitions = await store.taskDefinitionList({ limit: definitionCount });
  const table = store.tableNames.taskQueue;
  const have = await store.taskQueueCount({ includeSoftDeleted: true });
  if (have >= rows) return;
  log(`seeding ${rows - have} tasks`);
  const end = Date.now();
  const chunk = store.dialect === 'sqlite' ? 40 : 500;
  for (let n = have; n < rows; n += 5000) {
    const batch = [];
    for (let k = n; k < Math.min(rows, n + 5000); k++) {
      const status = statusOf(k);
      const created = end - Math.round(((rows - k) / rows) * 2 * 86_400_000);
      const definition = definitions[k % definitions.length]!;
      const finished = status !== 'queued' && status !== 'running';
      batch.push({
        // UUIDv7 of the creation time, as the store makes them: id order is creation order.
        id: uuidv7({ msecs: created }),
        task_id: definition.id,
        queue_name: QUEUES[k % QUEUES.length],
        status,
        parameters: JSON.stringify({ n: k, task_alias: definition.alias }),
        output: finished ? 'done' : '',
        details: '',
        attempts: status === 'queued' ? 0 : 1,
        max_attempts: 1,
        priority: 0,
        unique_key: null,
        unique_key_active: null,
        available_at: new Date(created),
        started_at: status === 'queued' ? null : new Date(created + 5),
        completed_at: finished ? new Date(created + 50) : null,
        heartbeat_at: status === 'running' ? new Date(created + 5) : null,
        claim_token: status === 'running' ? randomUUID() : null,
        created_at: new Date(created),
        updated_at: new Date(created + 50),
        soft_deleted_at: null,
      });
    }
    await store.knex.batchInsert(table, batch, chunk);
    if ((n / 5000) % 20 === 0) log(`  ${n + batch.length} tasks`);
  }
  // A day of metrics: per minute and queue, outcomes and a few histogram buckets.
  const metrics = [];
  const lastMinute = Math.floor(end / MINUTE_MS) * MINUTE_MS;
  for (let minute = lastMinute - 1440 * MINUTE_MS; minute <= lastMinute; minute += MINUTE_MS) {
    for (const queue of QUEUES) {
      const at = new Date(minute);
      metrics.push({ minute_start: at, queue_name: queue, metric: 'success', le_ms: 0, count: 60 });
      metrics.push({ minute_start: at, queue_name: queue, metric: 'failed', le_ms: 0, count: 3 });
      for (const [metric, bound] of [
        ['wait', HISTOGRAM_BOUNDS_MS[2]],
        ['wait', HISTOGRAM_BOUNDS_MS[5]],
        ['run', HISTOGRAM_BOUNDS_MS[4]],
        ['run', HISTOGRAM_BOUNDS_MS[7]],
      ] as const) {
        metrics.push({ minute_start: at, queue_name: queue, metric, le_ms: bound, count: 30 });
      }
    }
  }
  await store.knex.batchInsert(`${table}_metrics`, metrics, chunk);
}

async function analyze(store: TaskStore): Promise<void> {
  for (const table of [store.tableNames.taskQueue, store.tableNames.taskDefinition, `${store.tableNames.taskQueue}_metrics`]) {
    await store.knex.raw(store.dialect === 'mysql' ? 'ANALYZE TABLE ??' : 'ANALYZE ??', [table]);
  }
}

async function timePaths(store: TaskStore, repeat: number): Promise<Map<string, { median: number; max: number; status: number }>> {
  const handler = createAdminHandler(store, { basePath: '/admin' });
  const server = createServer((req, res) => void handler(req, res, () => res.writeHead(404).end()));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin`;
  const [task] = await store.taskQueueList({ status: 'failed', limit: 1, orderBy: 'createdAt', sortOrder: 'desc' });
  const [definition] = await store.taskDefinitionList({ limit: 1, orderBy: 'alias' });
  const paths = [
    '/',
    '/tasks',
    '/tasks?status=failed',
    `/tasks?queue=emails&status=queued`,
    `/tasks/${task?.id}`,
    '/definitions',
    `/definitions/${definition?.id}`,
    '/schedules',
    '/queues',
    '/api/stats',
    '/api/queues',
    '/api/queues/settings',
    '/api/tasks?status=failed',
    '/api/definitions',
    '/metrics',
  ];
  const results = new Map<string, { median: number; max: number; status: number }>();
  try {
    for (const path of paths) {
      const times: number[] = [];
      let status = 0;
      for (let i = 0; i <= repeat; i++) {
        const started = performance.now();
        const response = await fetch(`${base}${path}`);
        await response.arrayBuffer();
        status = response.status;
        if (i > 0) times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      results.set(path.replace(task?.id ?? '-', '<id>').replace(definition?.id ?? '-', '<id>'), {
        median: times[Math.floor(times.length / 2)] ?? 0,
        max: times[times.length - 1] ?? 0,
        status,
      });
    }
  } finally {
    server.close();
    server.closeAllConnections();
  }
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dialects: { type: 'string', default: DIALECTS.join(',') },
      rows: { type: 'string', default: '1000000' },
      definitions: { type: 'string', default: '500' },
      repeat: { type: 'string', default: '5' },
      database: { type: 'string', default: 'taskstore_scale' },
      'sqlite-file': { type: 'string', default: '.tmp/bench/scale.db' },
      'seed-only': { type: 'boolean', default: false },
    },
  });
  const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  const dialects = (values.dialects ?? '').split(',').filter(Boolean) as Dialect[];
  const byDialect = new Map<Dialect, Map<string, { median: number; max: number; status: number }>>();
  for (const dialect of dialects) {
    const url = databaseOf(dialect, values.database ?? 'taskstore_scale', values['sqlite-file'] ?? '.tmp/bench/scale.db');
    await ensureDatabase(dialect, url);
    const store = await TaskStore.open({ database: url });
    try {
      await seed(store, Number(values.rows), Number(values.definitions), (line) => log(`${dialect}: ${line}`));
      await analyze(store);
      if (values['seed-only']) continue;
      log(`${dialect}: ${await store.taskQueueCount()} tasks, ${await store.taskDefinitionCount()} definitions; timing`);
      byDialect.set(dialect, await timePaths(store, Number(values.repeat)));
    } finally {
      await store.close();
    }
  }
  const paths = [...(byDialect.values().next().value?.keys() ?? [])];
  process.stdout.write(
    `\nDashboard answer times, ms: median (slowest) of ${values.repeat}, ${values.rows} tasks, ${values.definitions} definitions\n\n`,
  );
  process.stdout.write(`| path | ${dialects.join(' | ')} |\n|---|${dialects.map(() => '---').join('|')}|\n`);
  for (const path of paths) {
    const cells = dialects.map((dialect) => {
      const result = byDialect.get(dialect)?.get(path);
      if (!result) return '–';
      const flag = result.status === 200 ? '' : ` (HTTP ${result.status})`;
      return `${result.median.toFixed(0)} (${result.max.toFixed(0)})${flag}`;
    });
    process.stdout.write(`| \`${path}\` | ${cells.join(' | ')} |\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`dashboard-scale: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
