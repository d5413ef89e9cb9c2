/**
 * CPU time per task over a drain: the machine's busy time from /proc/stat (user, nice, system,
 * irq, softirq; steal left out) across every process (database server, harness, workers),
 * node's own share from process.cpuUsage(), and the share of time the hypervisor stole. On a
 * machine whose CPU is stolen, wall-clock rates swing while CPU per task holds much steadier.
 */
import { readFileSync } from 'node:fs';

export interface DrainCpu {
  /** Busy CPU of the whole machine per task, in microseconds. */
  readonly machineUsPerTask: number;
  /** CPU of this node process per task, in microseconds. */
  readonly nodeUsPerTask: number;
  /** Steal as a percentage of all CPU time during the drain. */
  readonly stealPercent: number;
}

interface Ticks {
  readonly busy: number;
  readonly steal: number;
  readonly total: number;
}

/** The first line of /proc/stat, or null where there is none (not Linux). */
function readTicks(): Ticks | null {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  const fields = (text.split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  return { busy: user + nice + system + irq + softirq, steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

/** Starts measuring; the returned function ends the measurement for `tasks` tasks. */
export function startCpuMeter(): (tasks: number) => DrainCpu | undefined {
  const ticksBefore = readTicks();
  const nodeBefore = process.cpuUsage();
  return (tasks) => {
    const ticksAfter = readTicks();
    const node = process.cpuUsage(nodeBefore);
    if (!ticksBefore || !ticksAfter || tasks <= 0) return undefined;
    // /proc/stat counts in USER_HZ, 100 per second on Linux: one tick is 10,000 µs.
    const total = ticksAfter.total - ticksBefore.total;
    return {
      machineUsPerTask: ((ticksAfter.busy - ticksBefore.busy) * 10_000) / tasks,
      nodeUsPerTask: (node.user + node.system) / tasks,
      stealPercent: total > 0 ? ((ticksAfter.steal - ticksBefore.steal) / total) * 100 : 0,
    };
  };
}
