/**
 * MySQL's change feed (adapters/mysql/mysql-change-feed.ts): MAX(id) of the queue table and the
 * sum of the settings versions, read on a connection of the feed's own, outside the Knex pool.
 * What it hears, and what becomes of its connection when the server kills it, when the network
 * stops answering and when the feed closes. MySQL only by nature (on CI the MySQL URL is always
 * set); the cross-dialect wake-up through another store is in spec/runners/wake-ups.spec.ts.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { mysqlChangeFeed, PROBE_DEADLINE_MS, type MysqlChangeFeed } from '../../adapters/mysql/mysql-change-feed.js';
import { forEachDialect, knexConfigFor, uniqueAlias, uniqueQueue, waitFor } from '../support/index.js';
import { sleep } from '../support/runner-helpers.js';
import { TcpProxy } from '../support/tcp-proxy.js';

interface Heard {
  changes: string[];
  settings: string[];
  errors: unknown[];
}

forEachDialect('MySQL change feed', (t) => {
  if (t.dialect !== 'mysql') return;

  let feeds: MysqlChangeFeed[];
  let knexes: Knex[];
  let alias: string;
  let queue: string;

  beforeEach(async () => {
    feeds = [];
    knexes = [];
    alias = uniqueAlias('Feed');
    queue = uniqueQueue();
    await t.store.taskDefinitionCreate({ alias });
  });

  afterEach(async () => {
    await Promise.all(feeds.map((feed) => feed.close()));
    await Promise.all(knexes.map((knex) => knex.destroy()));
  });

  const knexOf = (config: Knex.Config): Knex => {
    const knex = knexFactory(config);
    knexes.push(knex);
    return knex;
  };

  /** A feed on `knex` (default: the shared store's), and what it hears. */
  const openFeed = (knex: Knex = t.store.knex): { feed: MysqlChangeFeed; heard: Heard } => {
    const heard: Heard = { changes: [], settings: [], errors: [] };
    const feed = mysqlChangeFeed(knex, t.store.tableNames, {
      onChange: (name) => heard.changes.push(name),
      onSettingsChange: (name) => heard.settings.push(name),
      onError: (error) => heard.errors.push(error),
    });
    feeds.push(feed);
    return { feed, heard };
  };

  /**
   * Writes the queue's settings (pause, resume, …) until the feed hears the write: from then on
   * it has read its marks, and has heard every write made so far.
   */
  const settingsHeard = async (heard: Heard): Promise<void> => {
    // The first read announces itself once, as a look again for whatever committed before it
    // (a runner's start read its settings earlier); what follows starts from a clean slate.
    await waitFor(() => heard.changes.length > 0 && heard.settings.length > 0, { timeoutMs: 10_000, message: 'the first read announced' });
    expect(heard.changes).to.deep.equal(['*']);
    expect(heard.settings).to.deep.equal(['*']);
    heard.changes.length = 0;
    heard.settings.length = 0;
    for (let write = 1; write <= 50; write++) {
      const before = heard.settings.length;
      await (write % 2 === 1 ? t.store.queuePause(queue) : t.store.queueResume(queue));
      for (let look = 0; look < 20; look++) {
        if (heard.settings.length > before) return;
        await sleep(25);
      }
    }
    throw new Error('no settings write was heard');
  };

  const enqueue = () => t.store.taskDefinitionEnqueueByAlias(queue, alias, {});

  const processIds = async (): Promise<number[]> => {
    const [rows] = (await t.store.knex.raw('SELECT ID AS id FROM information_schema.PROCESSLIST')) as [{ id: unknown }[]];
    return rows.map((row) => Number(row.id));
  };

  it('hears a settings write as a settings change, an enqueue as a change, and nothing while nothing is written', async () => {
    const { heard } = openFeed();
    await settingsHeard(heard);
    expect(heard.settings[0]).to.equal('*');
    expect(heard.changes, 'a settings write is no enqueue').to.deep.equal([]);
    const settingsWrites = heard.settings.length;
    await sleep(200);
    expect(heard.changes, 'nothing written, nothing heard').to.deep.equal([]);
    expect(heard.settings).to.have.length(settingsWrites);
    await enqueue();
    await waitFor(() => heard.changes.length > 0, { timeoutMs: 10_000, message: 'the enqueue was heard' });
    expect(heard.changes).to.deep.equal(['*']);
    expect(heard.settings, 'an enqueue is no settings write').to.have.length(settingsWrites);
    expect(heard.errors).to.deep.equal([]);
  });

  it('reads on a connection of its own, outside the pool, which KILL ends: it says so, reconnects, and hears a later enqueue', async () => {
    const { feed, heard } = openFeed();
    await settingsHeard(heard);
    const killed = feed.connectionId;
    expect(killed).to.be.a('number');
    await t.store.knex.raw('KILL ?', [killed]);
    await waitFor(() => heard.errors.length > 0, { timeoutMs: 10_000, message: 'the KILL was reported' });
    const reconnected = await waitFor(() => (feed.connectionId !== null && feed.connectionId !== killed ? feed.connectionId : null), {
      timeoutMs: 10_000,
      message: 'the feed reconnected',
    });
    expect(await processIds())
      .to.include(reconnected)
      .and.not.include(killed);
    // The enqueue may land before the new connection's first read; enqueue until one is heard.
    await waitFor(
      async () => {
        await enqueue();
        return heard.changes.length > 0;
      },
      { timeoutMs: 10_000, intervalMs: 50, message: 'an enqueue after the KILL was heard' },
    );
    expect(heard.errors.length, 'one report per lost connection, not one per probe').to.be.below(5);
  });

  it('notices a network that stops answering (no answer within the deadline), and hears enqueues again once it answers', async function () {
    this.timeout(60_000);
    const proxy = await TcpProxy.start({ port: Number(new URL(t.url).port) });
    try {
      const { feed, heard } = openFeed(knexOf(knexConfigFor('mysql', proxy.urlThrough(t.url))));
      await settingsHeard(heard);
      const frozen = feed.connectionId;
      proxy.freeze();
      await waitFor(() => heard.errors.length > 0, { timeoutMs: PROBE_DEADLINE_MS * 5, message: 'the silent network was reported' });
      expect(String(heard.errors[0])).to.match(/no answer from the database within/);
      proxy.heal();
      await waitFor(() => feed.connectionId !== null && feed.connectionId !== frozen, {
        timeoutMs: 20_000,
        message: 'the feed reconnected',
      });
      await waitFor(
        async () => {
          await enqueue();
          return heard.changes.length > 0;
        },
        { timeoutMs: 10_000, intervalMs: 50, message: 'an enqueue after the freeze was heard' },
      );
      await feed.close();
    } finally {
      await proxy.close();
    }
  });

  it('gives up on a read waiting for a table lock, without leaving reads waiting on the server, and hears enqueues once it is free', async function () {
    this.timeout(60_000);
    const { heard } = openFeed();
    await settingsHeard(heard);
    const locker = await mysqlPromise.createConnection({ uri: t.url });
    const waiting = async (): Promise<number> => {
      const [rows] = (await t.store.knex.raw(
        "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE STATE LIKE '%metadata lock%' AND INFO LIKE 'SELECT (SELECT MAX(id)%'",
      )) as [{ n: unknown }[]];
      return Number(rows[0]?.n);
    };
    try {
      await locker.query('LOCK TABLES ?? WRITE', [t.store.tableNames.taskQueue]);
      await waitFor(() => heard.errors.length >= 3, { timeoutMs: 20_000, intervalMs: 50, message: 'three reads given up' });
      expect((heard.errors[0] as { errno?: number }).errno, 'a lock wait timeout').to.equal(1205);
      expect(await waiting(), 'reads still waiting for the lock on the server').to.be.at.most(1);
    } finally {
      await locker.query('UNLOCK TABLES');
      await locker.end();
    }
    await waitFor(
      async () => {
        await enqueue();
        return heard.changes.length > 0;
      },
      { timeoutMs: 10_000, intervalMs: 50, message: 'an enqueue after the lock was heard' },
    );
  });

  it('reports a listener that throws, and keeps its connection and its reads', async () => {
    const thrown = new Error('a listener failed');
    const errors: unknown[] = [];
    const changes: string[] = [];
    const feed = mysqlChangeFeed(t.store.knex, t.store.tableNames, {
      onChange: (name) => {
        changes.push(name);
        throw thrown;
      },
      onSettingsChange: () => {},
      onError: (error) => errors.push(error),
    });
    feeds.push(feed);
    const id = await waitFor(() => feed.connectionId, { timeoutMs: 10_000, message: 'the feed connected' });
    await waitFor(
      async () => {
        await enqueue();
        return changes.length >= 2;
      },
      { timeoutMs: 10_000, intervalMs: 50, message: 'two enqueues heard by the throwing listener' },
    );
    expect(errors.length).to.be.at.least(2);
    expect(errors.every((error) => error === thrown)).to.equal(true);
    expect(feed.connectionId, 'the same connection').to.equal(id);
  });

  it('closes its connection: gone from the processlist, and no more reads', async () => {
    const { feed, heard } = openFeed();
    await settingsHeard(heard);
    const id = feed.connectionId;
    expect(await processIds()).to.include(id);
    await feed.close();
    expect(feed.connectionId).to.equal(null);
    await waitFor(async () => !(await processIds()).includes(id as number), { timeoutMs: 10_000, message: "the feed's connection ended" });
    await enqueue();
    await sleep(200);
    expect(heard.changes).to.deep.equal([]);
    expect(heard.errors).to.deep.equal([]);
  });

  describe('as another user, with a password', () => {
    const user = `ts_feed_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');

    before(async () => {
      await t.store.knex.raw('CREATE USER ??@? IDENTIFIED BY ?', [user, '%', password]);
      await t.store.knex.raw('GRANT SELECT, INSERT, UPDATE, DELETE ON ??.* TO ??@?', [new URL(t.url).pathname.slice(1), user, '%']);
    });

    after(async () => {
      await t.store.knex.raw('DROP USER IF EXISTS ??@?', [user, '%']);
    });

    const settings = (): Knex.MySql2ConnectionConfig => {
      const url = new URL(t.url);
      return { host: url.hostname, port: Number(url.port), user, password, database: url.pathname.slice(1) };
    };

    const connectionsAs = async (): Promise<number[]> => {
      const [rows] = (await t.store.knex.raw('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ?', [user])) as [
        { id: unknown }[],
      ];
      return rows.map((row) => Number(row.id));
    };

    for (const shape of ['an object', 'a function'] as const) {
      it(`connects with the settings of a connection given as ${shape}`, async () => {
        const connection = shape === 'an object' ? settings() : async () => settings();
        const { feed, heard } = openFeed(knexOf({ client: 'mysql2', connection }));
        await settingsHeard(heard);
        expect(await connectionsAs()).to.deep.equal([feed.connectionId]);
        await enqueue();
        await waitFor(() => heard.changes.length > 0, { timeoutMs: 10_000, message: 'the enqueue was heard' });
        expect(heard.errors).to.deep.equal([]);
      });
    }

    it('reports a refused login, and tries again less often each time', async () => {
      const { heard } = openFeed(knexOf({ client: 'mysql2', connection: { ...settings(), password: 'wrong' } }));
      await waitFor(() => heard.errors.length >= 2, { timeoutMs: 10_000, message: 'the refused login was reported again' });
      await sleep(500);
      // Every 25 ms for 500 ms would be 20 reports; doubling pauses make it a handful.
      expect(heard.errors.length).to.be.within(2, 12);
      expect((heard.errors[0] as { code?: string }).code).to.equal('ER_ACCESS_DENIED_ERROR');
    });
  });

  it("probes through the pool when Knex has a pool of the user's (connectionPool), and hears enqueues there too", async () => {
    const pool = mysql.createPool({ uri: t.url, connectionLimit: 2 });
    const { feed, heard } = openFeed(knexOf({ client: 'mysql2', connectionPool: pool } as Knex.Config));
    expect(feed.connectionId).to.equal(null);
    await settingsHeard(heard);
    await enqueue();
    await waitFor(() => heard.changes.length > 0, { timeoutMs: 10_000, message: 'the enqueue was heard' });
    expect(heard.errors).to.deep.equal([]);
  });
});
