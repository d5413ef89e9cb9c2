/**
 * Sizes: parameters, output and details have limits in UTF-8 bytes (TaskStore options),
 * checked before anything is written; a handler's output over its limit is cut, not lost;
 * many large rows are written in statements MySQL's max_allowed_packet takes; and a statement
 * over that packet does not break the next, unrelated call.
 */
import { expect } from 'chai';
import { TaskStore, defineTask } from '../../lib/index.js';
import type { TaskHandlerDefinition, TaskStoreOptions } from '../../lib/index.js';
import { TABLES, detailMessages, expectError, forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';

const KIB = 1024;
const SMALL: TaskStoreOptions = { maxParametersBytes: 4 * KIB, maxOutputBytes: 4 * KIB, maxDetailsBytes: 4 * KIB };
const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

describe('payload limit options', function () {
  for (const name of ['maxParametersBytes', 'maxOutputBytes', 'maxDetailsBytes'] as const) {
    it(`${name} must be an integer from 1,024 to 268,435,456`, async function () {
      for (const value of [0, 1023, 1.5, -1, Number.NaN, '4096', 256 * KIB * KIB + 1]) {
        await expectError(
          () => TaskStore.open({ database: 'sqlite::memory:', [name]: value } as TaskStoreOptions),
          'INVALID_ARGUMENT',
          name,
        );
      }
    });
  }
});

forEachDialect('payload limits', (t) => {
  let queue: string;

  beforeEach(function () {
    queue = uniqueQueue();
  });

  async function register(store: TaskStore, definition: Omit<TaskHandlerDefinition, 'alias'>): Promise<string> {
    const alias = uniqueAlias('Sized');
    await store.taskHandlerAdd(defineTask({ ...definition, alias }), true);
    return alias;
  }

  /** An ASCII string of exactly `bytes` bytes, and one of the same length in characters but twice the bytes. */
  const ascii = (bytes: number) => 'a'.repeat(bytes);
  const twoByte = (characters: number) => 'é'.repeat(characters);

  it('parameters over maxParametersBytes (counted in UTF-8 bytes, as JSON) reject on every write path, writing nothing', async function () {
    const store = await t.openStore(SMALL);
    const definition = await store.taskDefinitionCreate({ alias: uniqueAlias('Params') });
    const fits = { text: ascii(3000) };
    const overInBytes = { text: twoByte(3000) }; // 3,000 characters, 6,000 bytes
    const cases: [string, () => unknown][] = [
      ['enqueue', () => store.taskDefinitionEnqueueByAlias(queue, definition.alias, overInBytes)],
      ['enqueue many', () => store.taskDefinitionEnqueueManyByAlias(queue, definition.alias, [fits, fits, overInBytes])],
      ['create', () => store.taskQueueCreate({ taskId: definition.id, parameters: overInBytes })],
      ['schedule', () => store.scheduleCreate({ name: 's', taskDefinitionId: definition.id, cron: '0 0 * * *', parameters: overInBytes })],
    ];
    for (const [what, attempt] of cases) {
      await expectError(attempt, 'INVALID_ARGUMENT', /as JSON is [\d,]+ bytes; the limit is 4,096 \(maxParametersBytes\)/).catch(
        (error: Error) => {
          throw new Error(`${what}: ${error.message}`);
        },
      );
    }
    expect(await store.taskQueueCount()).to.equal(0);
    expect(await store.scheduleCount()).to.equal(0);
    const item = await store.taskDefinitionEnqueueByAlias(queue, definition.alias, fits);
    await expectError(() => store.taskQueueUpdate({ id: item.id, parameters: overInBytes }), 'INVALID_ARGUMENT', 'maxParametersBytes');
    expect((await store.taskQueueFindById(item.id))!.parameters).to.deep.equal({ ...fits, task_alias: definition.alias });
  });

  it('output and details over their limits reject on create and update; at the limit they are stored', async function () {
    const store = await t.openStore(SMALL);
    const { id: taskId } = await store.taskDefinitionCreate({ alias: uniqueAlias('Text') });
    await expectError(
      () => store.taskQueueCreate({ taskId, output: twoByte(2049) }),
      'INVALID_ARGUMENT',
      /output is 4,098 bytes; the limit is 4,096 \(maxOutputBytes\)/,
    );
    await expectError(() => store.taskQueueCreate({ taskId, details: ascii(4097) }), 'INVALID_ARGUMENT', 'maxDetailsBytes');
    expect(await store.taskQueueCount()).to.equal(0);
    const item = await store.taskQueueCreate({ taskId, output: twoByte(2048), details: ascii(4096) });
    expect(await store.taskQueueFindById(item.id)).to.include({ output: twoByte(2048), details: ascii(4096) });
    await expectError(() => store.taskQueueUpdate({ id: item.id, output: `${twoByte(2048)}x` }), 'INVALID_ARGUMENT', 'maxOutputBytes');
    await expectError(() => store.taskQueueUpdate({ id: item.id, details: `${ascii(4096)}x` }), 'INVALID_ARGUMENT', 'maxDetailsBytes');
    expect(await store.taskQueueFindById(item.id)).to.include({ output: twoByte(2048), details: ascii(4096) });
  });

  it("a handler's output over maxOutputBytes is cut at a character boundary, with a details line saying so", async function () {
    const store = await t.openStore(SMALL);
    const full = '😀'.repeat(3000); // 12,000 bytes of 4-byte characters
    const alias = await register(store, { handle: (ctx) => ctx.setOutput(full) });
    await store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const done = await store.taskQueueProcessNext(queue);
    expect(done).to.include({ status: 'success' });
    const output = done!.output;
    expect(utf8(output)).to.be.at.most(4 * KIB);
    expect(output).to.match(/^(😀)+ … \[output cut: 12,000 bytes in all\]$/u);
    expect(detailMessages(done!.details)).to.deep.equal([
      'Task started',
      'Output cut to 4,096 of 12,000 bytes (maxOutputBytes)',
      'Task completed',
    ]);
  });

  it("a handler's log lines stop at maxDetailsBytes with one line saying so; its own lines still end the task", async function () {
    const store = await t.openStore(SMALL);
    const alias = await register(store, {
      async handle(ctx) {
        for (let line = 0; line < 100; line++) await ctx.logInfo(`line ${line} ${'x'.repeat(80)}`);
        ctx.setOutput('done');
      },
    });
    await store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const done = await store.taskQueueProcessNext(queue);
    expect(done).to.include({ status: 'success', output: 'done' });
    const messages = detailMessages(done!.details);
    expect(messages.filter((message) => message.startsWith('Log full'))).to.have.length(1);
    expect(messages.at(-2)).to.match(/^Log full: details reached 4,096 bytes \(maxDetailsBytes\)/);
    expect(messages.at(-1)).to.equal('Task completed');
    expect(utf8(done!.details)).to.be.at.most(4 * KIB + 300);
    expect(messages.length).to.be.below(100);
  });

  it('a log line over 16 KiB is cut, marked with its full size', async function () {
    const alias = await register(t.store, { handle: async (ctx) => void (await ctx.logInfo('z'.repeat(100_000))) });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const done = await t.store.taskQueueProcessNext(queue);
    const [, logged] = done!.details.split('\n');
    expect(utf8(logged!)).to.be.at.most(16 * KIB);
    expect(logged).to.match(/z … \[line cut: 100,022 bytes in all\]$/);
  });

  it('many large parameters are written in several statements, all or none: 20 × 900 KB is more than a 16 MiB packet', async function () {
    this.timeout(60_000);
    const { alias } = await t.store.taskDefinitionCreate({ alias: uniqueAlias('Bulk') });
    const paramsList = Array.from({ length: 20 }, (_, n) => ({ n, blob: ascii(900 * KIB) }));
    const items = await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, paramsList);
    expect(items).to.have.length(20);
    expect(await t.store.taskQueueCount({ queueName: queue })).to.equal(20);
    const stored = await t.store.taskQueueFindById(items[19]!.id);
    expect(stored!.parameters).to.deep.equal({ ...paramsList[19], task_alias: alias });
  });

  describe("the server's statement size (MySQL max_allowed_packet)", function () {
    /** MySQL's max_allowed_packet; elsewhere 16 MiB, which those databases take in one statement. */
    async function packetBytes(): Promise<number> {
      if (t.dialect !== 'mysql') return 16 * KIB * KIB;
      const [rows] = (await t.store.knex.raw('SELECT @@max_allowed_packet AS packet')) as [{ packet: number }[]];
      return Number(rows[0]!.packet);
    }

    it('a statement over it fails alone: the next, unrelated calls succeed (4 rounds)', async function () {
      this.timeout(60_000);
      const big = ascii((await packetBytes()) + KIB * KIB);
      const { id: taskId } = await t.store.taskDefinitionCreate({ alias: uniqueAlias('Packet') });
      for (let round = 1; round <= 4; round++) {
        // Through the store's own pool, as an application sharing it might.
        const oversized = t.store.knex(TABLES.queue).where('output', big).count({ count: '*' });
        if (t.dialect === 'mysql') {
          let failed = false;
          await oversized.catch(() => (failed = true));
          expect(failed, `round ${round}: MySQL refuses the statement`).to.equal(true);
        } else {
          await oversized;
        }
        expect(await t.store.taskQueueCount({ taskId }), `round ${round}`).to.equal(0);
        expect(await t.store.taskDefinitionFindById(taskId), `round ${round}`).to.not.equal(null);
      }
    });

    it('TaskStore.open refuses limits it cannot hold; elsewhere a raised limit applies', async function () {
      const packet = await packetBytes();
      const options = { maxOutputBytes: packet / 2 };
      if (t.dialect === 'mysql') {
        await expectError(
          () => t.openStore(options),
          'INVALID_ARGUMENT',
          /maxParametersBytes \+ maxOutputBytes \+ maxDetailsBytes .* max_allowed_packet/,
        );
        return;
      }
      const store = await t.openStore(options);
      const output = ascii(2 * KIB * KIB);
      const alias = await register(store, { handle: (ctx) => ctx.setOutput(output) });
      await store.taskDefinitionEnqueueByAlias(queue, alias, {});
      expect(await store.taskQueueProcessNext(queue)).to.include({ status: 'success', output });
    });
  });
});
