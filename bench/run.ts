/**
 * `npm run bench` — measures taskstore and its PostgreSQL peers side by side. The peers are
 * bench/package.json's own dependencies: `npm run bench` installs them into bench/node_modules,
 * compiles bench/ (with the library sources it imports) to bench/dist, then runs this file.
 *
 *   node bench/dist/bench/run.js [--systems a,b] [--dialects sqlite,postgres,mysql] [--rounds 3]
 *                                [--jobs 20000] [--concurrency 10] [--latency-samples 500]
 *                                [--batch-size 1000] [--warmup 500] [--chart docs/benchmarks.svg]
 *   node bench/dist/bench/run.js --from bench/results/<file>.json   (re-print and re-chart a run)
 *
 * Writes bench/results/<timestamp>.json, prints the results, ratio, CPU and issue #13 target
 * tables as markdown, and writes the SVG chart (plus a PNG beside it when `rsvg-convert` is on
 * the PATH).
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart } from './chart.js';
import { ensurePostgresDatabase, pgUrl, postgresVersion } from './databases.js';
import { fsyncMedianMs, machineDescription, packageVersion, repoRoot } from './environment.js';
import { DIALECTS, cpuTable, ratioTable, resultsTable, runRounds } from './harness.js';
import type { BenchResults, BenchSettings, BenchSystem, Dialect } from './harness.js';
import { GraphileWorkerSystem } from './systems/graphile-worker.js';
import { PgBossSystem } from './systems/pg-boss.js';
import { RawSqlMysqlSystem } from './systems/raw-sql-mysql.js';
import { RawSqlSqliteSystem } from './systems/raw-sql-sqlite.js';
import { RawSqlSystem } from './systems/raw-sql.js';
import { TaskstoreSystem, type TaskstoreVariant } from './systems/taskstore.js';
import { evaluateTargets, targetsTable } from './targets.js';

const SYSTEM_IDS = [
  'taskstore',
  'taskstore:fast',
  'taskstore:durable',
  'taskstore:removing',
  'taskstore:limited',
  'graphile-worker',
  'graphile-worker:batched',
  'pg-boss',
  'pg-boss:10x10',
  'raw-sql',
] as const;

const USAGE = `usage: node bench/dist/bench/run.js [options]
  --systems LIST         comma-separated ids or families (default: all)
                         ids: ${SYSTEM_IDS.join(', ')}
  --dialects LIST        sqlite,postgres,mysql (default: all): taskstore and raw-sql run on each;
                         the peers (graphile-worker, pg-boss) run only when postgres is included
  --rounds N             interleaved rounds, median reported (default 3)
  --jobs N               tasks per enqueue phase and per drain (default 20000)
  --concurrency N        handlers at once while draining (default 10)
  --latency-samples N    add→start samples per round (default 500)
  --batch-size N         tasks per call when enqueueing in batches (default 1000)
  --warmup N             untimed enqueue+drain at the start of each slot (default 500)
  --history N            also drain with N finished rows already in the table (default 0: skip)
  --chart PATH           SVG chart output, '' for none (default docs/benchmarks.svg)
  --from FILE            do not run: re-print and re-chart a saved results file
  --help`;

function positiveInt(name: string, text: string | undefined, fallback: number, allowZero = false): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new Error(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer (got ${text})`);
  }
  return value;
}

function list(text: string | undefined): string[] | undefined {
  return text === undefined
    ? undefined
    : text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

const TASKSTORE_VARIANTS: readonly TaskstoreVariant[] = ['default', 'fast', 'durable', 'removing', 'limited'];

/** The raw-SQL floor of a dialect: every one has the id `raw-sql`, told apart by its dialect. */
function rawSqlSystem(dialect: Dialect, settings: BenchSettings): BenchSystem {
  switch (dialect) {
    case 'sqlite':
      return new RawSqlSqliteSystem(settings);
    case 'postgres':
      return new RawSqlSystem(pgUrl(), settings);
    case 'mysql':
      return new RawSqlMysqlSystem(settings);
  }
}

/**
 * The systems an id or family in `--systems` picks, on the `--dialects` given: taskstore's
 * variants and the raw-SQL floor run once per dialect, the peers only on PostgreSQL.
 */
function selectSystems(wanted: string[] | undefined, dialects: readonly Dialect[], settings: BenchSettings): BenchSystem[] {
  const ids = wanted ?? [...SYSTEM_IDS];
  const unknown = ids.filter((w) => !SYSTEM_IDS.some((id) => id === w || id.split(':')[0] === w));
  if (unknown.length > 0) throw new Error(`unknown system(s): ${unknown.join(', ')} (known: ${SYSTEM_IDS.join(', ')})`);
  const chosen = (id: string): boolean => ids.some((w) => w === id || w === id.split(':')[0]);
  const systems: BenchSystem[] = [];
  for (const variant of TASKSTORE_VARIANTS) {
    if (!chosen(variant === 'default' ? 'taskstore' : `taskstore:${variant}`)) continue;
    for (const dialect of dialects) systems.push(new TaskstoreSystem(dialect, settings, variant));
  }
  if (dialects.includes('postgres')) {
    const url = pgUrl();
    if (chosen('graphile-worker')) systems.push(new GraphileWorkerSystem(url, settings, 'default'));
    if (chosen('graphile-worker:batched')) systems.push(new GraphileWorkerSystem(url, settings, 'batched'));
    if (chosen('pg-boss')) systems.push(new PgBossSystem(url, settings, 'batch'));
    if (chosen('pg-boss:10x10')) systems.push(new PgBossSystem(url, settings, '10x10'));
  }
  if (chosen('raw-sql')) for (const dialect of dialects) systems.push(rawSqlSystem(dialect, settings));
  return systems;
}

async function report(results: BenchResults, chartPath: string): Promise<void> {
  const root = repoRoot();
  process.stdout.write(`\n## Results (${results.startedAt})\n\n${resultsTable(results.systems)}\n\n`);
  process.stdout.write(`## taskstore / peer (same run)\n\n${ratioTable(results.systems)}\n\n`);
  process.stdout.write(`## CPU per task while draining\n\n${cpuTable(results.systems)}\n\n`);
  // Files written before the targets existed get them computed from their medians.
  const targets = results.targets ?? evaluateTargets(results.systems, results.settings);
  process.stdout.write(`## Targets of issue #13 (medians of this run)\n\n${targetsTable(targets)}\n\n`);
  if (!chartPath) return;
  const svgPath = resolve(root, chartPath);
  await mkdir(dirname(svgPath), { recursive: true });
  await writeFile(svgPath, renderChart(results));
  process.stdout.write(`chart: ${relative(root, svgPath)}\n`);
  const pngPath = svgPath.replace(/\.svg$/, '.png');
  const png = spawnSync('rsvg-convert', ['--format', 'png', '--output', pngPath, svgPath], { stdio: 'ignore' });
  if (png.status === 0) process.stdout.write(`chart: ${relative(root, pngPath)}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      systems: { type: 'string' },
      dialects: { type: 'string' },
      rounds: { type: 'string' },
      jobs: { type: 'string' },
      concurrency: { type: 'string' },
      'latency-samples': { type: 'string' },
      'batch-size': { type: 'string' },
      warmup: { type: 'string' },
      history: { type: 'string' },
      chart: { type: 'string', default: 'docs/benchmarks.svg' },
      from: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const chartPath = values.chart ?? '';

  if (values.from) {
    // Relative to where the command was typed, also under `npm run bench` (npm's INIT_CWD).
    const from = resolve(process.env.INIT_CWD ?? process.cwd(), values.from);
    const saved = JSON.parse(await readFile(from, 'utf8')) as BenchResults;
    await report(saved, chartPath);
    return 0;
  }

  const settings: BenchSettings = {
    jobs: positiveInt('jobs', values.jobs, 20_000),
    rounds: positiveInt('rounds', values.rounds, 3),
    concurrency: positiveInt('concurrency', values.concurrency, 10),
    latencySamples: positiveInt('latency-samples', values['latency-samples'], 500),
    batchEnqueueSize: positiveInt('batch-size', values['batch-size'], 1000),
    warmupJobs: positiveInt('warmup', values.warmup, 500, true),
    historyRows: positiveInt('history', values.history, 0, true),
  };
  const dialectNames = list(values.dialects) ?? [...DIALECTS];
  const badDialect = dialectNames.find((d) => !DIALECTS.some((known) => known === d));
  if (badDialect) throw new Error(`unknown dialect: ${badDialect} (known: ${DIALECTS.join(', ')})`);
  const dialects = DIALECTS.filter((d) => dialectNames.includes(d));
  const systems = selectSystems(list(values.systems), dialects, settings);
  if (systems.length === 0) throw new Error('nothing to measure: check --systems and --dialects');

  const environment: Record<string, string> = {
    ...machineDescription(),
    'graphile-worker': packageVersion('graphile-worker'),
    'pg-boss': packageVersion('pg-boss'),
    pg: packageVersion('pg'),
    knex: packageVersion('knex'),
    'better-sqlite3': packageVersion('better-sqlite3'),
    mysql2: packageVersion('mysql2'),
  };
  if (dialects.includes('postgres')) {
    await ensurePostgresDatabase();
    environment.postgres = await postgresVersion();
    environment.postgresUrl = pgUrl().replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  }

  const startedAt = new Date().toISOString();
  const log = (line: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  log(`measuring ${systems.map((s) => `${s.id}/${s.dialect}`).join(', ')}: ${JSON.stringify(settings)}`);
  const loadAt = (): string =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  environment.loadAverageAtStart = loadAt();
  environment.fsyncMedianMsAtStart = fsyncMedianMs();
  const measured = await runRounds(systems, settings, log);
  environment.loadAverageAtEnd = loadAt();
  environment.fsyncMedianMsAtEnd = fsyncMedianMs();
  const results: BenchResults = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: ['node bench/dist/bench/run.js', ...process.argv.slice(2)].join(' '),
    settings,
    environment,
    systems: measured,
    targets: evaluateTargets(measured, settings),
  };

  const outFile = resolve(repoRoot(), 'bench', 'results', `${startedAt.replaceAll(':', '-').replace(/\..*$/, '')}.json`);
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results: ${relative(repoRoot(), outFile)}\n`);
  await report(results, chartPath);

  const failed = measured.filter((s) => s.rounds.some((r) => r.error && !/not implemented/i.test(r.error)));
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
