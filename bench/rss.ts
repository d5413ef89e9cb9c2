/**
 * `npm run bench:rss` — the resident memory of a worker process over one long drain (issue
 * #13): enqueue N no-op tasks in batches, drain them with the `taskstore:fast` settings (the
 * bench's TaskstoreSystem, so the very same runner options), and sample
 * `process.memoryUsage().rss` every second. It prints the RSS at the start of the drain, the
 * highest and the last, and whether every sample from the first 10% of the drain on stayed
 * within ±50 MB (10^6 bytes) of the sample taken there.
 *
 *   node bench/dist/bench/rss.js [--dialect postgres] [--jobs 1000000] [--concurrency 10]
 *                                [--batch-size 1000] [--band-mb 50]
 *
 * The queue table is emptied before and after (the rows of the drain are not kept).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { DIALECTS, fmt, nowMs, type BenchSettings, type DrainResult } from './harness.js';
import { TaskstoreSystem } from './systems/taskstore.js';

const USAGE = `usage: node bench/dist/bench/rss.js [options]
  --dialect NAME       sqlite, postgres or mysql (default postgres)
  --jobs N             tasks enqueued, then drained (default 1000000)
  --concurrency N      handlers at once while draining (default 10; prefetch 9 × this)
  --batch-size N       tasks per enqueue call (default 1000)
  --band-mb N          allowed distance from the RSS after the first 10% of the drain (default 50)
  --help`;

const MB = 1_000_000;
const SAMPLE_MS = 1000;
const BASELINE_SHARE = 0.1;

interface Sample {
  /** Seconds since the drain began. */
  seconds: number;
  /** Handler starts of the drain so far. */
  started: number;
  rss: number;
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer (got ${text})`);
  return value;
}

const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;
const log = (line: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      dialect: { type: 'string', default: 'postgres' },
      jobs: { type: 'string' },
      concurrency: { type: 'string' },
      'batch-size': { type: 'string' },
      'band-mb': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const dialect = DIALECTS.find((d) => d === values.dialect);
  if (!dialect) throw new Error(`unknown dialect: ${values.dialect} (known: ${DIALECTS.join(', ')})`);
  const jobs = positiveInt('jobs', values.jobs, 1_000_000);
  const concurrency = positiveInt('concurrency', values.concurrency, 10);
  const bandMb = positiveInt('band-mb', values['band-mb'], 50);
  const settings: BenchSettings = {
    jobs,
    rounds: 1,
    concurrency,
    latencySamples: 0,
    batchEnqueueSize: positiveInt('batch-size', values['batch-size'], 1000),
    warmupJobs: 0,
    historyRows: 0,
  };

  const system = new TaskstoreSystem(dialect, settings, 'fast');
  system.drainTimeoutMs = 4 * 3_600_000;
  log(`rss: ${system.id} on ${dialect}, ${fmt(jobs)} tasks, ${JSON.stringify(system.settings)}; load ${loadavg()[0]?.toFixed(2)}`);
  await system.setup();
  try {
    await system.reset();
    let t0 = nowMs();
    await system.enqueue(jobs, true);
    log(`enqueued ${fmt(jobs)} in ${fmt((nowMs() - t0) / 1000)} s; rss ${mb(process.memoryUsage().rss)}`);
    await system.analyze();

    const startsBefore = system.handlerStarts;
    const samples: Sample[] = [];
    t0 = nowMs();
    const sample = (): Sample => {
      const taken = { seconds: (nowMs() - t0) / 1000, started: system.handlerStarts - startsBefore, rss: process.memoryUsage().rss };
      samples.push(taken);
      return taken;
    };
    sample();
    const timer = setInterval(() => {
      const taken = sample();
      if (samples.length % 10 === 0) log(`${fmt(taken.seconds)} s: ${fmt(taken.started)} started, rss ${mb(taken.rss)}`);
    }, SAMPLE_MS);
    let drained: DrainResult;
    try {
      drained = await system.drain(jobs, concurrency);
    } finally {
      clearInterval(timer);
    }
    sample();

    const start = samples[0] as Sample;
    const end = samples.at(-1) as Sample;
    const max = samples.reduce((a, b) => (b.rss > a.rss ? b : a));
    const baseline = samples.find((s) => s.started >= jobs * BASELINE_SHARE) ?? end;
    const after = samples.filter((s) => s.seconds >= baseline.seconds);
    const low = Math.min(...after.map((s) => s.rss));
    const high = Math.max(...after.map((s) => s.rss));
    const within = high - baseline.rss <= bandMb * MB && baseline.rss - low <= bandMb * MB;

    const deciles = Array.from({ length: 10 }, (_, i) => samples.find((s) => s.started >= (jobs * (i + 1)) / 10) ?? end);
    const lines = [
      `RSS over a drain of ${fmt(jobs)} tasks, ${system.id} settings (prefetch ${concurrency * 9}, concurrency ${concurrency}), ${dialect}: ` +
        `${fmt(drained.jobsPerSecond)} jobs/s, ${fmt(drained.elapsedMs / 1000)} s, ${samples.length} samples`,
      '',
      '| | RSS |',
      '| --- | --- |',
      `| start of the drain | ${mb(start.rss)} |`,
      `| max | ${mb(max.rss)} (at ${fmt(max.seconds)} s, ${fmt(max.started)} started) |`,
      `| end | ${mb(end.rss)} |`,
      `| after the first 10% (${fmt(baseline.started)} started, ${fmt(baseline.seconds)} s) | ${mb(baseline.rss)} |`,
      `| from there on: min – max | ${mb(low)} – ${mb(high)} |`,
      '',
      `within ±${bandMb} MB of the value after the first 10%: ${within ? 'yes' : 'NO'}`,
      '',
      `by decile of the drain (started → RSS): ${deciles.map((s, i) => `${(i + 1) * 10}% ${mb(s.rss)}`).join(', ')}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return within ? 0 : 1;
  } finally {
    await system.reset().catch((error: unknown) => log(`reset failed: ${String(error)}`));
    await system.teardown();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench:rss: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
