/**
 * The core's hooks (TaskStore.open `hooks`), without OpenTelemetry: the option is checked,
 * hooks are chained first-outermost, the innermost trace context is stored, a hook that
 * breaks the contract gets a TaskStoreError, and opened/closed are told once each.
 */
import { expect } from 'chai';
import { defineTask, type EnqueueHookInfo, type ProcessOutcome, type TaskStoreHooks } from '../../lib/index.js';
import { openTelemetry } from '../../lib/otel/index.js';
import { expectError, expectThrows, forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';

forEachDialect('store hooks', (t) => {
  it('refuses a hooks option that is not an array of hook objects', async function () {
    const cases: [unknown, string][] = [
      ['openTelemetry', 'hooks must be an array'],
      [{ aroundEnqueue: () => null }, 'hooks must be an array'],
      [[null], 'hooks[0] must be an object (got null)'],
      [[openTelemetry], 'hooks[0] must be an object (got function)'],
      [[{}], 'hooks[0] has none of aroundEnqueue, aroundProcess, opened, closed'],
      [[{ opened() {} }, { aroundProcess: 'yes' }], 'hooks[1].aroundProcess must be a function'],
    ];
    for (const [hooks, message] of cases) {
      await expectError(() => t.openStore({ hooks: hooks as TaskStoreHooks[] }), 'INVALID_ARGUMENT', message);
    }
  });

  it('chains hooks first-outermost around enqueue and processing; the innermost trace context is stored', async function () {
    const calls: string[] = [];
    const seen: EnqueueHookInfo[] = [];
    const hook = (name: string, traceContext: string | null): TaskStoreHooks => ({
      async aroundEnqueue(info, run) {
        seen.push(info);
        calls.push(`${name} enqueue in`);
        const items = await run(traceContext);
        calls.push(`${name} enqueue out ${items.length}`);
        return items;
      },
      async aroundProcess({ item, alias }, run) {
        calls.push(`${name} process in ${alias} ${item.traceContext} attempt ${item.attempts}`);
        const outcome = await run();
        calls.push(`${name} process out ${outcome.status}`);
        return outcome;
      },
    });
    const store = await t.openStore({ hooks: [hook('outer', 'outer-context'), hook('inner', 'inner-context'), hook('last', null)] });
    const alias = uniqueAlias('Chained');
    await store.taskHandlerAdd(defineTask({ alias, handle: () => true }), true);
    const queue = uniqueQueue();
    const item = await store.taskDefinitionEnqueueByAlias(queue, alias, {});
    expect(item.traceContext).to.equal('inner-context');
    expect((await store.taskQueueProcessNext(queue))?.status).to.equal('success');
    expect(calls).to.deep.equal([
      'outer enqueue in',
      'inner enqueue in',
      'last enqueue in',
      'last enqueue out 1',
      'inner enqueue out 1',
      'outer enqueue out 1',
      `outer process in ${alias} inner-context attempt 1`,
      `inner process in ${alias} inner-context attempt 1`,
      `last process in ${alias} inner-context attempt 1`,
      'last process out success',
      'inner process out success',
      'outer process out success',
    ]);
    expect(seen[0]).to.deep.equal({ queueName: queue, alias, count: 1 });
  });

  it('rejects a hook that skips run, calls it twice, or gives a trace context the column cannot hold', async function () {
    const alias = uniqueAlias('Broken');
    await t.store.taskHandlerAdd(defineTask({ alias, handle: () => true }), true);
    const queue = uniqueQueue();
    const open = (hook: TaskStoreHooks) => t.openStore({ hooks: [hook] });

    const skips = await open({ aroundEnqueue: async () => [] });
    await expectError(
      () => skips.taskDefinitionEnqueueByAlias(queue, alias, {}),
      'INVALID_STATE',
      /aroundEnqueue resolved without calling run/,
    );
    const twice = await open({ aroundEnqueue: async (_info, run) => (await run(null), run(null)) });
    await expectError(() => twice.taskDefinitionEnqueueByAlias(queue, alias, {}), 'INVALID_STATE', /aroundEnqueue called run twice/);
    expect(await t.store.taskQueueCount({ queueName: queue })).to.equal(1);
    const long = await open({ aroundEnqueue: (_info, run) => run(`00-${'a'.repeat(2000)}`) });
    await expectError(() => long.taskDefinitionEnqueueByAlias(queue, alias, {}), 'INVALID_ARGUMENT', /at most 1024 characters/);
    expect(await t.store.taskQueueCount({ queueName: queue })).to.equal(1);

    const skipsProcess = await open({ aroundProcess: async (): Promise<ProcessOutcome> => ({ status: 'success' }) });
    await expectError(() => skipsProcess.taskQueueProcessNext(queue), 'INVALID_STATE', /aroundProcess resolved without calling run/);
  });

  it('tells opened once the store is open and closed once when it closes', async function () {
    const told: string[] = [];
    const store = await t.openStore({
      hooks: [
        {
          opened: (opened) => told.push(`opened ${opened.isClosed()}`),
          closed: (closed) => told.push(`closed ${closed === (store as unknown)}`),
        },
      ],
    });
    expect(told).to.deep.equal(['opened false']);
    await store.close();
    await store.close();
    expect(told).to.deep.equal(['opened false', 'closed true']);
  });
});

describe('openTelemetry options', function () {
  it('refuses options it does not know and providers that are not providers', function () {
    expectThrows(() => openTelemetry({ tracer: {} } as never), 'INVALID_ARGUMENT', "unknown option 'tracer'");
    expectThrows(
      () => openTelemetry({ tracerProvider: {} as never }),
      'INVALID_ARGUMENT',
      'options.tracerProvider must be a TracerProvider',
    );
    expectThrows(
      () => openTelemetry({ meterProvider: null as never }),
      'INVALID_ARGUMENT',
      'options.meterProvider must be a MeterProvider',
    );
    expect(openTelemetry()).to.respondTo('aroundProcess');
  });
});
