/**
 * The runners registry methods of the TaskStore facade (see lib/store/store-facade.ts):
 * runnerList, which dashboards and `taskstore runners` read, and the writes started runners
 * make through runners/runner-registration.ts (docs/runners.md, "The runners registry").
 */
import type { RunnerHeartbeatInput, RunnerInfo, RunnerListOptions } from '../foundation/runner-types.js';
import { StoreFacade } from './store-facade.js';

export abstract class RunnerMethods extends StoreFacade {
  /**
   * The started runners of every process sharing the database, seen within `staleAfterMs`
   * (default three times runnerHeartbeatIntervalMs), by kind, queue, host and pid; at most 1000.
   */
  runnerList(options?: RunnerListOptions): Promise<RunnerInfo[]> {
    return this.run('runnerList', () => this.parts.runners.list(options));
  }

  /** How often started runners write their row: the store's runnerHeartbeatIntervalMs. */
  get runnerHeartbeatIntervalMs(): number {
    return this.parts.runners.heartbeatIntervalMs;
  }

  /** A started runner's row, written at start and every runnerHeartbeatIntervalMs (recreated when it aged out); stale rows are aged out by it. */
  runnerHeartbeat(runner: RunnerHeartbeatInput): Promise<void> {
    return this.run('runnerHeartbeat', () => this.parts.runners.heartbeat(runner));
  }

  /** Deletes a stopped runner's row; an unknown id is not an error. */
  runnerUnregister(id: string): Promise<void> {
    return this.run('runnerUnregister', () => this.parts.runners.unregister(id));
  }
}
