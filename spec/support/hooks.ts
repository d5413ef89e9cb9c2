/**
 * Root hooks (loaded by .mocharc.json): the runner leak check. Code that starts a runner in a
 * test registers it with `trackRunner`; after each test, any tracked runner still running
 * fails the test, and the registry is cleared.
 */
interface Trackable {
  isRunning(): boolean;
}

const tracked = new Set<Trackable>();

export function trackRunner<T extends Trackable>(runner: T): T {
  tracked.add(runner);
  return runner;
}

export const mochaHooks = {
  afterEach(this: Mocha.Context): void {
    const alive = [...tracked].filter((runner) => runner.isRunning());
    tracked.clear();
    if (alive.length > 0) {
      throw new Error(`leak check: ${alive.length} runner(s) still running after "${this.currentTest?.fullTitle() ?? 'test'}"`);
    }
  },
};
