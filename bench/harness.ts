/**
 * The benchmark harness: the contract every measured system implements, the timing helpers,
 * the interleaved round loop, the result shape written to bench/results/*.json, and the
 * markdown tables printed at the end of a run.
 *
 * Nothing here knows a particular queue library; bench/systems/ holds one adapter per system.
 */
import { performance } from 'node:perf_hooks';
import { startCpuMeter, type DrainCpu } from './cpu.js';

export type Dialect = 'sqlite' | 'postgres' | 'mysql';
export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres', 'mysql'];

/** What a system gets from the run: sizes that are the same for every system. */
export interface BenchSettings {
  /** Tasks enqueued per phase and drained per round. */
  jobs: number;
  /** Interleaved rounds; the reported figure is the median over them. */
  rounds: number;
  /** Handlers allowed to run at once while draining. */
  concurrency: number;
  /** add→start samples per round, taken one at a time with the worker idle. */
  latencySamples: number;
  /** Tasks per call in the batch-enqueue phase. */
  batchEnqueueSize: number;
  /** Tasks enqueued and drained, untimed, at the start of each round slot (JIT, pools, caches). */
  warmupJobs: number;
  /** Finished rows already in the queue table for the history drain phase; 0 = skip it. */
  historyRows: number;
}

export interface DrainResult {
  jobsPerSecond: number;
  /** From the first handler start to the moment the store shows every task finished. */
  elapsedMs: number;
}

/**
 * One measured system on one dialect. The harness calls, per round:
 * setup → (warm-up) → reset → enqueue(single) → reset → enqueue(batch) → analyze → drain →
 * reset → latency → teardown. Only enqueue, drain and latency are timed.
 */
export interface BenchSystem {
  /** Unique id, `family` or `family:variant`, e.g. `graphile-worker:batched`. */
  readonly id: string;
  /** What `--systems` matches besides the id, e.g. `graphile-worker`. */
  readonly family: string;
  readonly dialect: Dialect;
  /** The library version measured (from its package.json), or a description. */
  readonly version: string;
  /** The settings that differ from the library's defaults, for the docs and the JSON. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Connect and install the schema (idempotent). Runs once per round slot, untimed. */
  setup(): Promise<void>;
  /** Empty the queue so the next phase starts from a clean table. Untimed. */
  reset(): Promise<void>;
  /** ANALYZE (or the dialect's equivalent) the freshly filled queue table. Untimed. */
  analyze(): Promise<void>;
  /** Enqueue n no-op tasks, one call per task (`batch` false) or `batchEnqueueSize` a call. */
  enqueue(n: number, batch: boolean): Promise<void>;
  /** Start a worker on the n queued tasks and time them until all are finished. */
  drain(n: number, concurrency: number): Promise<DrainResult>;
  /** With a worker running and idle: enqueue one task at a time; return each add→start in ms. */
  latency(samples: number): Promise<number[]>;
  /** Stop everything setup started. */
  teardown(): Promise<void>;
  /** Optional: add→start in ms with the enqueue made by another OS process, worker idle. */
  crossProcessLatency?(samples: number): Promise<number[]>;
  /** Optional: fill the table with `rows` finished tasks (untimed). The drain phase follows. */
  fillHistory?(rows: number): Promise<void>;
}

// ---------------------------------------------------------------------------
// Timing

export const nowMs = (): number => performance.now();

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Rejects with a clear message if `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every `intervalMs` until it returns true. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  intervalMs: number,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = nowMs() + timeoutMs;
  while (!(await check())) {
    if (nowMs() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Counts handler starts during a drain: the first start opens the clock, and `all` resolves
 * when the n-th start has happened.
 */
export class StartCounter {
  firstStartMs: number | undefined;
  count = 0;
  readonly #target: number;
  readonly #all = deferred<void>();

  constructor(target: number) {
    this.#target = target;
    if (target <= 0) this.#all.resolve();
  }

  get all(): Promise<void> {
    return this.#all.promise;
  }

  started(jobs = 1): void {
    this.firstStartMs ??= nowMs();
    this.count += jobs;
    if (this.count >= this.#target) this.#all.resolve();
  }
}

/**
 * The drain measurement every system shares: wait for n handler starts, then poll the store
 * (cheaply, only now) until it shows no unfinished task, and time from the first start.
 */
export async function timeDrain(
  n: number,
  counter: StartCounter,
  unfinished: () => Promise<number>,
  timeoutMs = 600_000,
): Promise<DrainResult> {
  await withTimeout(counter.all, timeoutMs, `drain of ${n} tasks`);
  await waitUntil(async () => (await unfinished()) === 0, 2, timeoutMs, 'the last completions to commit');
  const end = nowMs();
  const elapsedMs = end - (counter.firstStartMs ?? end);
  return { jobsPerSecond: elapsedMs > 0 ? (n / elapsedMs) * 1000 : Number.POSITIVE_INFINITY, elapsedMs };
}

/**
 * Latency probe shared by every system: `enqueueOne` adds one task; the system's handler calls
 * `probe.started()`. Each sample is add-call start → handler start. After each start it waits
 * `idleMs` so the completion lands and the worker is idle again before the next add.
 */
export class LatencyProbe {
  #pending: Deferred<number> | undefined;

  started(): void {
    this.#pending?.resolve(nowMs());
  }

  async measure(samples: number, enqueueOne: () => Promise<unknown>, idleMs = 5): Promise<number[]> {
    const result: number[] = [];
    for (let i = 0; i < samples; i++) {
      const pending = deferred<number>();
      this.#pending = pending;
      const t0 = nowMs();
      await enqueueOne();
      const startedAt = await withTimeout(pending.promise, 30_000, `latency sample ${i + 1}`);
      this.#pending = undefined;
      result.push(startedAt - t0);
      await sleep(idleMs);
    }
    return result;
  }
}

// ---------------------------------------------------------------------------
// Statistics

/** Linear-interpolated percentile (p in 0..100) of an unsorted list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const lo = sorted[lower] ?? Number.NaN;
  const hi = sorted[upper] ?? lo;
  return lo + (hi - lo) * (rank - lower);
}

export const median = (values: readonly number[]): number => percentile(values, 50);

// ---------------------------------------------------------------------------
// Results

export const METRICS = [
  'enqueueSingle',
  'enqueueBatch',
  'drain',
  'latencyP50',
  'latencyP95',
  'crossLatencyP50',
  'crossLatencyP95',
  'drainWithHistory',
] as const;
export type Metric = (typeof METRICS)[number];

export const METRIC_LABELS: Readonly<Record<Metric, string>> = {
  enqueueSingle: 'enqueue, single (jobs/s)',
  enqueueBatch: 'enqueue, batch (jobs/s)',
  drain: 'drain (jobs/s)',
  latencyP50: 'add→start p50 (ms)',
  latencyP95: 'add→start p95 (ms)',
  crossLatencyP50: 'add→start, other process, p50 (ms)',
  crossLatencyP95: 'add→start, other process, p95 (ms)',
  drainWithHistory: 'drain with history rows (jobs/s)',
};

/** Throughputs: higher is better. Latencies: lower is better. */
export const HIGHER_IS_BETTER: Readonly<Record<Metric, boolean>> = {
  enqueueSingle: true,
  enqueueBatch: true,
  drain: true,
  latencyP50: false,
  latencyP95: false,
  crossLatencyP50: false,
  crossLatencyP95: false,
  drainWithHistory: true,
};

export interface RoundResult {
  round: number;
  /** Position of this system in the round's order (0 = ran first). */
  slot: number;
  metrics: Partial<Record<Metric, number>>;
  drainElapsedMs?: number;
  /** CPU per task over the timed drain (Linux only). */
  drainCpu?: DrainCpu;
  error?: string;
}

export interface SystemResult {
  id: string;
  family: string;
  dialect: Dialect;
  version: string;
  settings: Readonly<Record<string, unknown>>;
  rounds: RoundResult[];
  /** Median over the rounds that measured the metric. */
  median: Partial<Record<Metric, number>>;
  min: Partial<Record<Metric, number>>;
  max: Partial<Record<Metric, number>>;
}

/** One target of issue #13, evaluated on the medians of a run (bench/targets.ts). */
export interface TargetResult {
  /** What is compared, e.g. `drain, taskstore:durable ÷ graphile-worker:batched`. */
  target: string;
  dialect: Dialect;
  /** The measured value: a ratio (`unit` '×') or milliseconds (`unit` 'ms'). */
  value: number;
  unit: '×' | 'ms';
  /** Met when value ≥ threshold, or value ≤ threshold. */
  comparison: '≥' | '≤';
  threshold: number;
  /** The medians the value and the threshold come from, in words. */
  from: string;
  status: 'met' | 'missed';
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  command: string;
  settings: BenchSettings;
  environment: Record<string, string>;
  systems: SystemResult[];
  /** The targets of issue #13 on this run's medians (absent from files written before them). */
  targets?: TargetResult[];
}

export type Log = (line: string) => void;

async function runSlot(system: BenchSystem, settings: BenchSettings, round: number, slot: number, log: Log): Promise<RoundResult> {
  const metrics: Partial<Record<Metric, number>> = {};
  const result: RoundResult = { round, slot, metrics };
  const tag = `[round ${round}] ${system.id} (${system.dialect})`;
  let setUp = false;
  try {
    await system.setup();
    setUp = true;
    if (settings.warmupJobs > 0) {
      await system.reset();
      await system.enqueue(settings.warmupJobs, true);
      await system.drain(settings.warmupJobs, settings.concurrency);
    }

    await system.reset();
    let t0 = nowMs();
    await system.enqueue(settings.jobs, false);
    metrics.enqueueSingle = (settings.jobs / (nowMs() - t0)) * 1000;
    log(`${tag} enqueue single: ${fmt(metrics.enqueueSingle)} jobs/s`);

    await system.reset();
    t0 = nowMs();
    await system.enqueue(settings.jobs, true);
    metrics.enqueueBatch = (settings.jobs / (nowMs() - t0)) * 1000;
    log(`${tag} enqueue batch: ${fmt(metrics.enqueueBatch)} jobs/s`);

    await system.analyze();
    const stopCpuMeter = startCpuMeter();
    const drained = await system.drain(settings.jobs, settings.concurrency);
    result.drainCpu = stopCpuMeter(settings.jobs);
    metrics.drain = drained.jobsPerSecond;
    result.drainElapsedMs = drained.elapsedMs;
    const cpu = result.drainCpu
      ? `; CPU ${fmt(result.drainCpu.machineUsPerTask)} µs/task (node ${fmt(result.drainCpu.nodeUsPerTask)}), steal ${result.drainCpu.stealPercent.toFixed(1)}%`
      : '';
    log(`${tag} drain: ${fmt(metrics.drain)} jobs/s (${fmt(drained.elapsedMs)} ms${cpu})`);

    await system.reset();
    const samples = await system.latency(settings.latencySamples);
    metrics.latencyP50 = percentile(samples, 50);
    metrics.latencyP95 = percentile(samples, 95);
    log(`${tag} add→start p50 ${fmt(metrics.latencyP50)} ms, p95 ${fmt(metrics.latencyP95)} ms`);

    if (system.crossProcessLatency) {
      await system.reset();
      const cross = await system.crossProcessLatency(settings.latencySamples);
      metrics.crossLatencyP50 = percentile(cross, 50);
      metrics.crossLatencyP95 = percentile(cross, 95);
      log(`${tag} add→start from another process p50 ${fmt(metrics.crossLatencyP50)} ms, p95 ${fmt(metrics.crossLatencyP95)} ms`);
    }

    if (system.fillHistory && settings.historyRows > 0) {
      await system.reset();
      await system.fillHistory(settings.historyRows);
      await system.enqueue(settings.jobs, true);
      await system.analyze();
      const withHistory = await system.drain(settings.jobs, settings.concurrency);
      metrics.drainWithHistory = withHistory.jobsPerSecond;
      const share = metrics.drain ? ` (${((withHistory.jobsPerSecond / metrics.drain) * 100).toFixed(0)}% of the empty-table rate)` : '';
      log(`${tag} drain with ${settings.historyRows} finished rows: ${fmt(withHistory.jobsPerSecond)} jobs/s${share}`);
      await system.reset();
    }
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    log(`${tag} FAILED: ${result.error}`);
  } finally {
    if (setUp) {
      await system.teardown().catch((error: unknown) => log(`${tag} teardown failed: ${String(error)}`));
    }
  }
  return result;
}

/**
 * Runs every system once per round. The order rotates each round, so a slow drift of the
 * machine (cache, autovacuum, thermal) is spread over every system instead of landing on one.
 * A system whose setup fails in round 1 with a "not implemented" error is not tried again.
 */
export async function runRounds(systems: readonly BenchSystem[], settings: BenchSettings, log: Log): Promise<SystemResult[]> {
  const rounds = new Map<BenchSystem, RoundResult[]>(systems.map((s) => [s, []]));
  const skipped = new Set<BenchSystem>();
  for (let round = 1; round <= settings.rounds; round++) {
    const active = systems.filter((s) => !skipped.has(s));
    const offset = active.length > 0 ? (round - 1) % active.length : 0;
    const order = [...active.slice(offset), ...active.slice(0, offset)];
    for (const [slot, system] of order.entries()) {
      const result = await runSlot(system, settings, round, slot, log);
      rounds.get(system)?.push(result);
      if (result.error && /not implemented/i.test(result.error)) skipped.add(system);
    }
  }
  return systems.map((system) => summarize(system, rounds.get(system) ?? []));
}

export function summarize(system: BenchSystem, rounds: RoundResult[]): SystemResult {
  const result: SystemResult = {
    id: system.id,
    family: system.family,
    dialect: system.dialect,
    version: system.version,
    settings: system.settings,
    rounds,
    median: {},
    min: {},
    max: {},
  };
  for (const metric of METRICS) {
    const values = rounds.map((r) => r.metrics[metric]).filter((v): v is number => v !== undefined && Number.isFinite(v));
    if (values.length === 0) continue;
    result.median[metric] = median(values);
    result.min[metric] = Math.min(...values);
    result.max[metric] = Math.max(...values);
  }
  return result;
}

// ---------------------------------------------------------------------------
// Reporting

export function fmt(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (value >= 1000) return Math.round(value).toLocaleString('en-US');
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function cell(result: SystemResult, metric: Metric): string {
  const mid = result.median[metric];
  if (mid === undefined) return '–';
  const lo = result.min[metric];
  const hi = result.max[metric];
  const measured = result.rounds.filter((r) => r.metrics[metric] !== undefined).length;
  return measured > 1 ? `${fmt(mid)} (${fmt(lo)}–${fmt(hi)})` : fmt(mid);
}

/** A markdown table. */
export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * CPU per task over the drain, median over the rounds, (min–max) beside it; the steal column
 * says how much CPU the hypervisor took meanwhile. Empty when /proc/stat was not readable.
 */
export function cpuTable(results: readonly SystemResult[]): string {
  const rows = results.flatMap((r) => {
    const measured = r.rounds.map((round) => round.drainCpu).filter((cpu): cpu is DrainCpu => cpu !== undefined);
    if (measured.length === 0) return [];
    const column = (pick: (cpu: DrainCpu) => number): string => {
      const values = measured.map(pick);
      return values.length > 1 ? `${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})` : fmt(values[0]);
    };
    return [[r.id, r.dialect, column((c) => c.machineUsPerTask), column((c) => c.nodeUsPerTask), column((c) => c.stealPercent)]];
  });
  if (rows.length === 0) return '_no CPU figures: /proc/stat was not readable_';
  return table(['system', 'dialect', 'drain CPU, all processes (µs/task)', 'of which node (µs/task)', 'steal during the drain (%)'], rows);
}

/** The results table: median over rounds, (min–max) beside it. */
export function resultsTable(results: readonly SystemResult[]): string {
  const rows = results.map((r) => {
    const failed = r.rounds.find((x) => x.error)?.error;
    const name = failed && r.median.drain === undefined ? `${r.id} (${failed})` : r.id;
    return [name, r.dialect, ...METRICS.map((m) => cell(r, m))];
  });
  return table(['system', 'dialect', ...METRICS.map((m) => METRIC_LABELS[m])], rows);
}

/**
 * ours / theirs for every metric, on the same dialect and from the same run. Above 1 means more
 * jobs/s for throughputs and more milliseconds (worse) for latencies.
 */
export function ratioTable(results: readonly SystemResult[], oursFamily = 'taskstore'): string {
  const rows: string[][] = [];
  for (const ours of results.filter((r) => r.family === oursFamily)) {
    for (const peer of results.filter((r) => r.family !== oursFamily && r.dialect === ours.dialect)) {
      rows.push([
        `${ours.id} / ${peer.id}`,
        ours.dialect,
        ...METRICS.map((m) => {
          const a = ours.median[m];
          const b = peer.median[m];
          return a === undefined || b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}×`;
        }),
      ]);
    }
  }
  if (rows.length === 0) return '_no ratios: taskstore was not measured in this run_';
  return table(['ours / peer', 'dialect', ...METRICS.map((m) => METRIC_LABELS[m])], rows);
}
