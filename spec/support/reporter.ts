/**
 * mocha's spec reporter plus one plain closing line, 'N passed, N failed, N skipped',
 * which CI reads to count what ran. A test the runner leak check fails (spec/support/hooks.ts)
 * was reported passed first; it counts as failed only.
 */
import Mocha from 'mocha';

const { Spec } = Mocha.reporters;
const { EVENT_RUN_END, EVENT_TEST_PASS } = Mocha.Runner.constants;

class SummaryReporter extends Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const passed: Mocha.Test[] = [];
    runner.on(EVENT_TEST_PASS, (test) => passed.push(test));
    runner.once(EVENT_RUN_END, () => {
      const { failures, pending } = runner.stats ?? { failures: 0, pending: 0 };
      const passes = passed.filter((test) => test.state === 'passed').length;
      process.stdout.write(`\ntests: ${passes} passed, ${failures} failed, ${pending} skipped\n`);
    });
  }
}

export default SummaryReporter;
