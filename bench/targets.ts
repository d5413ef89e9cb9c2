/**
 * The targets of issues #13 (and #14's limited drain), evaluated on the medians of one run. A target whose systems (or
 * metric) were not measured in the run is left out, so a partial run prints only what it can
 * decide. The list is stored in the results JSON (`targets`) and `--from` prints it again.
 */
import { fmt, table } from './harness.js';
import type { BenchSettings, Dialect, Metric, SystemResult, TargetResult } from './harness.js';

/** Drain rate of `ours` ÷ drain rate of `peer`, same dialect, at least `threshold`. */
const DRAIN_RATIOS: readonly { dialect: Dialect; ours: string; peer: string; threshold: number }[] = [
  { dialect: 'postgres', ours: 'taskstore:durable', peer: 'graphile-worker:batched', threshold: 1.0 },
  { dialect: 'postgres', ours: 'taskstore:durable', peer: 'raw-sql', threshold: 0.75 },
  { dialect: 'postgres', ours: 'taskstore:fast', peer: 'graphile-worker:batched', threshold: 1.3 },
  { dialect: 'postgres', ours: 'taskstore', peer: 'graphile-worker', threshold: 3 },
  { dialect: 'sqlite', ours: 'taskstore:fast', peer: 'raw-sql', threshold: 0.75 },
  { dialect: 'mysql', ours: 'taskstore:fast', peer: 'raw-sql', threshold: 0.75 },
  // Issue #14: a queue concurrency limit equal to the runner's slots costs at most 20%.
  { dialect: 'sqlite', ours: 'taskstore:limited', peer: 'taskstore', threshold: 0.8 },
  { dialect: 'postgres', ours: 'taskstore:limited', peer: 'taskstore', threshold: 0.8 },
  { dialect: 'mysql', ours: 'taskstore:limited', peer: 'taskstore', threshold: 0.8 },
];

/** Drain with history rows ÷ drain, per taskstore system and dialect. */
const HISTORY_SHARE = 0.9;
/** add→start p50 of every taskstore system on PostgreSQL, at most graphile-worker's (default). */
const LATENCY_PEER = 'graphile-worker';
/** Cross-process add→start p50 of every taskstore system on these dialects, in ms. */
const CROSS_LATENCY_DIALECTS: readonly Dialect[] = ['sqlite', 'mysql'];
const CROSS_LATENCY_MS = 5;

const OURS = 'taskstore';

function outcome(
  target: string,
  dialect: Dialect,
  value: number,
  unit: TargetResult['unit'],
  comparison: TargetResult['comparison'],
  threshold: number,
  from: string,
): TargetResult {
  const met = comparison === '≥' ? value >= threshold : value <= threshold;
  return { target, dialect, value, unit, comparison, threshold, from, status: met ? 'met' : 'missed' };
}

/** Every target the run's medians can decide, in the order of the issue. */
export function evaluateTargets(systems: readonly SystemResult[], settings: BenchSettings): TargetResult[] {
  const find = (id: string, dialect: Dialect): SystemResult | undefined => systems.find((s) => s.id === id && s.dialect === dialect);
  const medianOf = (system: SystemResult | undefined, metric: Metric): number | undefined => {
    const value = system?.median[metric];
    return value !== undefined && Number.isFinite(value) ? value : undefined;
  };
  const results: TargetResult[] = [];

  for (const { dialect, ours, peer, threshold } of DRAIN_RATIOS) {
    const a = medianOf(find(ours, dialect), 'drain');
    const b = medianOf(find(peer, dialect), 'drain');
    if (a === undefined || b === undefined || b === 0) continue;
    results.push(outcome(`drain, ${ours} ÷ ${peer}`, dialect, a / b, '×', '≥', threshold, `${fmt(a)} ÷ ${fmt(b)} jobs/s`));
  }

  for (const system of systems.filter((s) => s.family === OURS)) {
    const withHistory = medianOf(system, 'drainWithHistory');
    const drain = medianOf(system, 'drain');
    if (settings.historyRows <= 0 || withHistory === undefined || drain === undefined || drain === 0) continue;
    results.push(
      outcome(
        `drain with ${fmt(settings.historyRows)} finished rows ÷ drain, ${system.id}`,
        system.dialect,
        withHistory / drain,
        '×',
        '≥',
        HISTORY_SHARE,
        `${fmt(withHistory)} ÷ ${fmt(drain)} jobs/s`,
      ),
    );
  }

  const peerP50 = medianOf(find(LATENCY_PEER, 'postgres'), 'latencyP50');
  for (const system of systems.filter((s) => s.family === OURS && s.dialect === 'postgres')) {
    const p50 = medianOf(system, 'latencyP50');
    if (p50 === undefined || peerP50 === undefined) continue;
    results.push(
      outcome(`add→start p50, ${system.id} ≤ ${LATENCY_PEER}`, 'postgres', p50, 'ms', '≤', peerP50, `${fmt(p50)} ms vs ${fmt(peerP50)} ms`),
    );
  }

  for (const dialect of CROSS_LATENCY_DIALECTS) {
    for (const system of systems.filter((s) => s.family === OURS && s.dialect === dialect)) {
      const p50 = medianOf(system, 'crossLatencyP50');
      if (p50 === undefined) continue;
      results.push(
        outcome(`add→start from another process p50, ${system.id}`, dialect, p50, 'ms', '≤', CROSS_LATENCY_MS, `${fmt(p50)} ms`),
      );
    }
  }
  return results;
}

const shown = (value: number, unit: TargetResult['unit']): string => (unit === '×' ? `${value.toFixed(2)}×` : `${fmt(value)} ms`);

/** The targets as a markdown table. */
export function targetsTable(targets: readonly TargetResult[]): string {
  if (targets.length === 0) return '_no targets: none of their systems was measured in this run_';
  const rows = targets.map((t) => [
    t.target,
    t.dialect,
    shown(t.value, t.unit),
    `${t.comparison} ${shown(t.threshold, t.unit)}`,
    t.from,
    t.status === 'met' ? 'met' : '**missed**',
  ]);
  return table(['target', 'dialect', 'value', 'required', 'medians', 'status'], rows);
}
