/**
 * Text and parameters that one database or another refuses, or stores differently: U+0000,
 * lone surrogates, sparse arrays, throwing getters, deep nesting, and a final write the
 * database refuses. Every dialect must end each task and store the same text.
 */
import { expect } from 'chai';
import { TaskQueueRunner, defineTask } from '../../lib/index.js';
import type { Dialect, JsonObject, TaskHandlerDefinition, TaskStore } from '../../lib/index.js';
import { detailMessages, expectError, forEachDialect, uniqueAlias, uniqueQueue, uniqueTable, within } from '../support/index.js';

const NUL = '\u0000';
const LONE_HIGH = '\uD800';
const LONE_LOW = '\uDC00';
const FFFD = '\uFFFD';

forEachDialect('hostile data', (t) => {
  let queue: string;

  beforeEach(function () {
    queue = uniqueQueue();
  });

  async function register(definition: Omit<TaskHandlerDefinition, 'alias'>, store: TaskStore = t.store): Promise<string> {
    const alias = uniqueAlias('Hostile');
    await store.taskHandlerAdd(defineTask({ ...definition, alias }), true);
    return alias;
  }

  describe('what a handler produces', function () {
    const cases: { name: string; handle: TaskHandlerDefinition['handle']; status: string; output: string; line: string | null }[] = [
      { name: 'output with U+0000', handle: (ctx) => ctx.setOutput(`a${NUL}b`), status: 'success', output: `a${FFFD}b`, line: null },
      {
        name: 'output with lone surrogates',
        handle: (ctx) => ctx.setOutput(`x${LONE_HIGH}y${LONE_LOW}`),
        status: 'success',
        output: `x${FFFD}y${FFFD}`,
        line: null,
      },
      {
        name: 'a log line with U+0000 and a lone surrogate',
        handle: async (ctx) => void (await ctx.logInfo(`log${NUL}line${LONE_LOW}`)),
        status: 'success',
        output: '',
        line: `log${FFFD}line${FFFD}`,
      },
      {
        name: 'an error message with U+0000',
        handle: () => {
          throw new Error(`err${NUL}msg${LONE_HIGH}`);
        },
        status: 'failed',
        output: '',
        line: `Task failed: err${FFFD}msg${FFFD}`,
      },
    ];

    for (const { name, handle, status, output, line } of cases) {
      it(`${name}: the task ends, stored with U+FFFD in its place, and processNext resolves`, async function () {
        const alias = await register({ handle });
        const { id } = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
        const done = await t.store.taskQueueProcessNext(queue);
        expect(done).to.include({ id, status, output });
        const messages = detailMessages(done!.details);
        if (line !== null)
          expect(
            messages.some((message) => message.startsWith(line)),
            messages.join(' | '),
          ).to.equal(true);
        expect(messages.at(-1)).to.match(status === 'success' ? /^Task completed$/ : /^Task failed/);
        const stored = await t.store.taskQueueFindById(id);
        expect(stored).to.include({ status, output, details: done!.details });
      });
    }

    it('under a runner, a U+0000 output ends the task after one run (not rerun, not failed forcefully)', async function () {
      let runs = 0;
      const alias = await register({
        maxAttempts: 3,
        handle(ctx) {
          runs += 1;
          ctx.setOutput(`result${NUL}`);
        },
      });
      const { id } = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
      const runner = new TaskQueueRunner(t.store, { queueName: queue });
      const errors: Error[] = [];
      runner.on('error', (error) => errors.push(error));
      await within(runner.runOnce(), 20_000, 'runOnce');
      expect(errors.map((error) => error.message)).to.deep.equal([]);
      expect(runs).to.equal(1);
      expect(await t.store.taskQueueFindById(id)).to.include({ status: 'success', output: `result${FFFD}`, attempts: 1 });
    });
  });

  describe('the final write refused by the database', function () {
    /** A store on tables of its own, whose queue table refuses an output longer than 2,000 characters. */
    async function refusingStore(): Promise<TaskStore> {
      const suffix = uniqueTable('refuse');
      const store = await t.openStore({
        taskDefinitionTableName: `${suffix}_d`,
        taskQueueTableName: `${suffix}_q`,
        scheduleTableName: `${suffix}_s`,
        automigrate: true,
      });
      for (const statement of refuseLongOutput(t.dialect, `${suffix}_q`)) await store.knex.raw(statement);
      return store;
    }

    it('ends the task all the same: output and lines cut down, and a details line saying so', async function () {
      const store = await refusingStore();
      const alias = await register({ handle: (ctx) => ctx.setOutput(`${'x'.repeat(5000)}€`) }, store);
      const { id } = await store.taskDefinitionEnqueueByAlias(queue, alias, {});
      const done = await store.taskQueueProcessNext(queue);
      expect(done).to.include({ id, status: 'success' });
      expect(done!.output).to.equal(`${'x'.repeat(1020)} ...`);
      const messages = detailMessages(done!.details);
      expect(messages[0]).to.equal('Task started');
      expect(messages[1]).to.match(
        /^Task result refused by the database \(.+\); stored with output and lines cut to 1024 ASCII characters$/,
      );
      expect(messages[2]).to.equal('Task completed');
      expect(await store.taskQueueCount({ statuses: ['running'] })).to.equal(0);
    });

    it('a failed attempt with a refused output is retried as it would have been', async function () {
      const store = await refusingStore();
      const alias = await register(
        {
          maxAttempts: 2,
          handle(ctx) {
            ctx.setOutput('y'.repeat(3000));
            throw new Error('down');
          },
        },
        store,
      );
      const { id } = await store.taskDefinitionEnqueueByAlias(queue, alias, {});
      const done = await store.taskQueueProcessNext(queue);
      expect(done).to.include({ id, status: 'queued', attempts: 1 });
      expect(done!.output).to.have.length(1024);
      const messages = detailMessages(done!.details);
      expect(messages[1]).to.match(/^Task result refused by the database/);
      expect(messages[2]).to.match(/^Task failed: down/);
      expect(messages[3]).to.match(/^Retrying in 1 s \(attempt 1 of 2\)$/);
    });
  });

  describe('parameters', function () {
    const tricky: JsonObject = {
      nul: `a${NUL}b`,
      high: `x${LONE_HIGH}`,
      low: `${LONE_LOW}y`,
      [`key${NUL}${LONE_HIGH}`]: 1,
      nested: [{ s: NUL }],
    };

    it('keep U+0000 and lone surrogates exactly (JSON escapes them), through every write path', async function () {
      const definition = await t.store.taskDefinitionCreate({ alias: uniqueAlias('Params') });
      const expected = { ...tricky, task_alias: definition.alias };
      const one = await t.store.taskDefinitionEnqueueByAlias(queue, definition.alias, tricky);
      const many = await t.store.taskDefinitionEnqueueManyByAlias(queue, definition.alias, [tricky, tricky]);
      const keyed = await t.store.taskDefinitionEnqueueByAlias(queue, definition.alias, tricky, { uniqueKey: uniqueQueue('key') });
      for (const item of [one, ...many, keyed]) {
        expect(item.parameters).to.deep.equal(expected);
        expect((await t.store.taskQueueFindById(item.id))!.parameters).to.deep.equal(expected);
      }
      const created = await t.store.taskQueueCreate({ taskId: definition.id, parameters: tricky });
      expect((await t.store.taskQueueFindById(created.id))!.parameters).to.deep.equal(tricky);
      const updated = await t.store.taskQueueUpdate({ id: created.id, parameters: { ...tricky, more: NUL } });
      expect(updated.parameters).to.deep.equal({ ...tricky, more: NUL });
      const schedule = await t.store.scheduleCreate({ name: 'p', taskDefinitionId: definition.id, cron: '0 0 * * *', parameters: tricky });
      expect((await t.store.scheduleFindById(schedule.id))!.parameters).to.deep.equal(tricky);
    });

    it('reject holes in enqueue-many and in arrays inside parameters, writing nothing', async function () {
      const { alias } = await t.store.taskDefinitionCreate({ alias: uniqueAlias('Sparse') });
      const holey: JsonObject[] = [{}, { a: 1 }];
      delete holey[0];
      const withHole = [1, 2, 3];
      delete withHole[1];
      await expectError(
        () => t.store.taskDefinitionEnqueueManyByAlias(queue, alias, holey),
        'INVALID_ARGUMENT',
        'paramsList[0] is missing',
      );
      await expectError(
        () => t.store.taskDefinitionEnqueueManyByAlias(queue, alias, new Array<JsonObject>(3)),
        'INVALID_ARGUMENT',
        'paramsList[0] is missing',
      );
      await expectError(
        () => t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{ a: 1 }, { list: withHole }]),
        'INVALID_ARGUMENT',
        'paramsList[1].list[1] is a hole',
      );
      await expectError(
        () => t.store.taskDefinitionEnqueueByAlias(queue, alias, { list: new Array(2) }),
        'INVALID_ARGUMENT',
        'params.list[0] is a hole',
      );
      expect(await t.store.taskQueueCount()).to.equal(0);
    });

    it('reject a property whose getter throws, naming it, and write nothing', async function () {
      const { alias, id: taskId } = await t.store.taskDefinitionCreate({ alias: uniqueAlias('Getter') });
      const trap = {
        get secret(): string {
          throw new Error('no access');
        },
      };
      await expectError(
        () => t.store.taskDefinitionEnqueueByAlias(queue, alias, trap),
        'INVALID_ARGUMENT',
        /params\.secret could not be read.*no access/,
      );
      await expectError(
        () => t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{ ok: true }, { deep: { list: [trap] } }]),
        'INVALID_ARGUMENT',
        'paramsList[1].deep.list[0].secret could not be read',
      );
      await expectError(
        () => t.store.taskQueueCreate({ taskId, parameters: trap }),
        'INVALID_ARGUMENT',
        'parameters.secret could not be read',
      );
      expect(await t.store.taskQueueCount()).to.equal(0);
    });

    it('nest at most 64 levels deep: 64 are stored, 65 and 20,000 reject before anything is written', async function () {
      const { alias } = await t.store.taskDefinitionCreate({ alias: uniqueAlias('Deep') });
      const nested = (levels: number): JsonObject => {
        const top: JsonObject = {};
        let current = top;
        for (let level = 2; level <= levels; level++) current = (current['a'] = {}) as JsonObject;
        current['leaf'] = true;
        return top;
      };
      const stored = await t.store.taskDefinitionEnqueueByAlias(queue, alias, nested(64));
      expect((await t.store.taskQueueFindById(stored.id))!.parameters).to.deep.equal({ ...nested(64), task_alias: alias });
      await expectError(() => t.store.taskDefinitionEnqueueByAlias(queue, alias, nested(65)), 'INVALID_ARGUMENT', 'nested too deep');
      await expectError(() => t.store.taskDefinitionEnqueueByAlias(queue, alias, nested(20_000)), 'INVALID_ARGUMENT', 'nested too deep');
      let list: unknown[] = [];
      const deepList = list;
      for (let level = 0; level < 20_000; level++) list = (list[0] = []) as unknown[];
      await expectError(
        () => t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{ deepList } as unknown as JsonObject]),
        'INVALID_ARGUMENT',
        'nested too deep',
      );
      expect(await t.store.taskQueueCount()).to.equal(1);
    });
  });

  describe('names and keys', function () {
    for (const [label, bad] of [
      ['a lone high surrogate', `q${LONE_HIGH}`],
      ['a lone low surrogate', `${LONE_LOW}q`],
      ['U+0000', `q${NUL}`],
    ] as const) {
      it(`reject ${label} with INVALID_ARGUMENT and write nothing`, async function () {
        const definition = await t.store.taskDefinitionCreate({ alias: uniqueAlias('Keys') });
        const item = await t.store.taskDefinitionEnqueueByAlias(queue, definition.alias, {});
        const attempts: [string, () => unknown][] = [
          ['queue name (enqueue)', () => t.store.taskDefinitionEnqueueByAlias(bad, definition.alias, {})],
          ['queue name (enqueue many)', () => t.store.taskDefinitionEnqueueManyByAlias(bad, definition.alias, [{}])],
          ['queue name (create)', () => t.store.taskQueueCreate({ taskId: definition.id, queueName: bad })],
          ['queue name (update)', () => t.store.taskQueueUpdate({ id: item.id, queueName: bad })],
          ['queue name (claim)', () => t.store.taskQueueClaimNext(bad)],
          ['unique key (enqueue)', () => t.store.taskDefinitionEnqueueByAlias(queue, definition.alias, {}, { uniqueKey: bad })],
          ['unique key (create)', () => t.store.taskQueueCreate({ taskId: definition.id, uniqueKey: bad })],
          ['alias (create)', () => t.store.taskDefinitionCreate({ alias: `A${bad}` })],
          ['alias (update)', () => t.store.taskDefinitionUpdate({ id: definition.id, alias: `A${bad}` })],
          ['schedule name', () => t.store.scheduleCreate({ name: bad, taskDefinitionId: definition.id, cron: '0 0 * * *' })],
          [
            'schedule queue name',
            () => t.store.scheduleCreate({ name: 's', queueName: bad, taskDefinitionId: definition.id, cron: '0 0 * * *' }),
          ],
          ['queue list filter', () => t.store.taskQueueList({ queueName: bad })],
        ];
        for (const [what, attempt] of attempts) {
          await expectError(attempt, 'INVALID_ARGUMENT', /must not contain (U\+0000|a lone surrogate)/).catch((error: Error) => {
            throw new Error(`${what}: ${error.message}`);
          });
        }
        expect(await t.store.taskQueueCount()).to.equal(1);
        expect(await t.store.taskQueueFindById(item.id)).to.include({ queueName: queue });
        expect(await t.store.taskDefinitionCount()).to.equal(1);
        expect(await t.store.scheduleCount()).to.equal(0);
      });
    }
  });

  describe('free text given to the store', function () {
    const given = `t${NUL}e${LONE_HIGH}x${LONE_LOW}t 😀`;
    const stored = `t${FFFD}e${FFFD}x${FFFD}t 😀`;

    it('is stored with U+FFFD for U+0000 and lone surrogates, and returned as stored', async function () {
      const definition = await t.store.taskDefinitionCreate({ alias: uniqueAlias('Free'), title: given, description: given, memo: given });
      expect(definition).to.include({ title: stored, description: stored, memo: stored });
      expect(await t.store.taskDefinitionFindById(definition.id)).to.include({ title: stored, description: stored, memo: stored });
      const renamed = await t.store.taskDefinitionUpdate({ id: definition.id, description: `${given}!` });
      expect(renamed.description).to.equal(`${stored}!`);
      expect((await t.store.taskDefinitionFindById(definition.id))!.description).to.equal(`${stored}!`);

      const created = await t.store.taskQueueCreate({ taskId: definition.id, output: given, details: given });
      expect(created).to.include({ output: stored, details: stored });
      expect(await t.store.taskQueueFindById(created.id)).to.include({ output: stored, details: stored });
      const updated = await t.store.taskQueueUpdate({ id: created.id, output: `${given}?`, details: `${given}?` });
      expect(updated).to.include({ output: `${stored}?`, details: `${stored}?` });

      const schedule = await t.store.scheduleCreate({ name: 'n', description: given, taskDefinitionId: definition.id, cron: '0 0 * * *' });
      expect(schedule.description).to.equal(stored);
      expect((await t.store.scheduleFindById(schedule.id))!.description).to.equal(stored);
    });
  });
});

/** DDL that makes the queue table refuse an output longer than 2,000 characters, as a data exception where the dialect has one. */
function refuseLongOutput(dialect: Dialect, table: string): string[] {
  switch (dialect) {
    case 'sqlite':
      return [
        `CREATE TRIGGER "${table}_refuse" BEFORE UPDATE OF output ON "${table}" WHEN length(NEW.output) > 2000
         BEGIN SELECT RAISE(ABORT, 'output refused'); END`,
      ];
    case 'postgres':
      return [
        `CREATE FUNCTION "${table}_refuse"() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF length(NEW.output) > 2000 THEN RAISE EXCEPTION 'output refused' USING ERRCODE = '22001'; END IF; RETURN NEW; END $$`,
        `CREATE TRIGGER "${table}_refuse" BEFORE UPDATE ON "${table}" FOR EACH ROW EXECUTE FUNCTION "${table}_refuse"()`,
      ];
    case 'mysql':
      return [
        `CREATE TRIGGER \`${table}_refuse\` BEFORE UPDATE ON \`${table}\` FOR EACH ROW
         BEGIN IF CHAR_LENGTH(NEW.output) > 2000 THEN SIGNAL SQLSTATE '22001' SET MESSAGE_TEXT = 'output refused'; END IF; END`,
      ];
  }
}
