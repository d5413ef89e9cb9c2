/**
 * Build against build (bench/node-cost.ts, bench/idle-load.ts): the calling script runs once
 * per build and round in a child process of its own (`<script> --child --dist <build> …`,
 * printing one JSON result), so two versions of the library never share a process; the builds
 * take turns, round after round, so a drift of the machine lands on all of them alike.
 */
import { execFileSync } from 'node:child_process';

/** Each build's results, in round order; `report` sees each as it comes. */
export function buildsInTurn<T>(
  builds: readonly string[],
  rounds: number,
  childArgs: readonly string[],
  report: (round: number, build: string, result: T) => void,
): Map<string, T[]> {
  const results = new Map<string, T[]>(builds.map((build) => [build, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const build of builds) {
      const args = [process.argv[1] as string, '--child', '--dist', build, ...childArgs];
      const result = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })) as T;
      results.get(build)?.push(result);
      report(round, build, result);
    }
  }
  return results;
}
