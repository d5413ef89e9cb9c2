/**
 * The change feed of MySQL/MariaDB: the queue table's MAX(id) (ids are time-ordered UUIDv7, so
 * a new row raises it) and the sum of the settings rows' versions (which moves with every
 * settings write), read on a connection of the feed's own with a statement prepared once on the
 * server: every 3 ms for a second after a mark moved, every 25 ms otherwise (MYSQL_PROBE_RATES).
 *
 * The connection is made outside the Knex pool from the settings the pool connects with (host,
 * port, user, password, database, ssl, …) and needs none of the pool's session set-up, only a
 * bounded wait for table locks. A connection given as a function is asked for fresh settings at
 * each connect; a Knex instance on a pool of the user's (`connectionPool`) keeps the former
 * probe through that pool. When the connection is lost (killed, or a network that stops
 * answering: no answer within PROBE_DEADLINE_MS) or a read fails, the feed reports it, closes
 * the connection, and opens a new one after a pause that doubles up to a second.
 */
import type { Knex } from 'knex';
import type { ChangeFeed, ChangeListener, TableNames } from '../adapter.js';
import { queueSettingsTable } from '../../lib/foundation/table-names.js';
import { pollingChangeFeed } from '../polling-change-feed.js';

/**
 * How often the feed reads the marks: every `fastMs` for `fastForMs` after it last saw one
 * move, every `slowMs` otherwise. A read costs the server a statement on two tables and node a
 * round trip, a few hundred µs of CPU each (bench/idle-load.ts): read every few milliseconds
 * throughout, an idle runner would cost its process and the server several times what the
 * former 25 ms probe through the pool cost, so a quiet feed reads at that pace, and the first
 * enqueue after a quiet second is heard within 25 ms (12.5 ms on average). The fast pace
 * was chosen by `bench/dist/bench/run.js`'s cross-process add→start (docs/adapters.md).
 */
export interface MysqlProbeRates {
  readonly fastMs: number;
  readonly slowMs: number;
  readonly fastForMs: number;
}

export const MYSQL_PROBE_RATES: MysqlProbeRates = Object.freeze({ fastMs: 3, slowMs: 25, fastForMs: 1000 });
/** The probe through the Knex pool, where the feed cannot have a connection of its own. */
export const MYSQL_POOL_PROBE_MS = 25;
/** A read or a connect not answered within this is taken for a lost connection. */
export const PROBE_DEADLINE_MS = 2000;
/** The longest pause between attempts after failures. */
const MAX_PAUSE_MS = 1000;
/**
 * A read waiting for a table's metadata lock (an ALTER TABLE, a LOCK TABLES) gives up after a
 * second on the server. Without it, each read the deadline abandoned would wait on in its server
 * thread until the lock came free (the default wait is a year), one more every few seconds.
 */
const BOUNDED_LOCK_WAIT = 'SET SESSION lock_wait_timeout = 1';

export interface MysqlChangeFeed extends ChangeFeed {
  /** The server's id of the feed's connection (`CONNECTION_ID()`), while it has one. */
  readonly connectionId: number | null;
}

type Callback<T> = (error: (Error & { fatal?: boolean }) | null, result: T) => void;
interface Statement {
  execute(parameters: unknown[], callback: Callback<Record<string, unknown>[]>): void;
}
interface RawConnection {
  threadId: number | null;
  stream?: { destroy(): void };
  connect(callback: (error: Error | null) => void): void;
  query(sql: string, callback: Callback<unknown>): void;
  prepare(sql: string, callback: Callback<Statement>): void;
  end(callback: (error?: Error | null) => void): void;
  destroy(): void;
  on(event: 'error', listener: (error: Error) => void): void;
}
interface MysqlClient {
  config: { connection?: unknown; connectionPool?: unknown };
  connectionSettings?: Record<string, unknown>;
  driver: { createConnection(options: Record<string, unknown>): RawConnection };
}

export function mysqlChangeFeed(
  knex: Knex,
  tables: TableNames,
  listener: ChangeListener,
  rates: MysqlProbeRates = MYSQL_PROBE_RATES,
): MysqlChangeFeed {
  const client = knex.client as MysqlClient;
  const sql =
    `SELECT (SELECT MAX(id) FROM \`${tables.taskQueue}\`) AS queue, ` +
    `(SELECT COALESCE(SUM(version), 0) FROM \`${queueSettingsTable(tables.taskQueue)}\`) AS settings`;
  if (client.config.connectionPool) return poolChangeFeed(knex, sql, listener);

  let connection: RawConnection | null = null; // opening, or open
  let statement: Statement | null = null; // once prepared on `connection`
  let busySince = 0; // an open or a probe under way since then
  let attempt = 0;
  let last: readonly [unknown, string] | undefined;
  let closed = false;
  let failures = 0;
  let quietUntil = 0;
  let movedAt = 0; // when a mark last moved
  let timer: NodeJS.Timeout | null = null;
  let timerMs = 0;

  /** Reports the failure of `current` (null: of an attempt with no connection yet), once, and closes it. */
  const fail = (current: RawConnection | null, error: unknown): void => {
    if (current) {
      if (current !== connection) return; // already dropped
      connection = null;
      statement = null;
      current.destroy();
      current.stream?.destroy(); // mysql2's destroy() only half-closes: a dead network would keep the socket
    }
    attempt += 1;
    busySince = 0;
    if (closed) return;
    failures += 1;
    quietUntil = Date.now() + Math.min(MAX_PAUSE_MS, rates.fastMs * 2 ** failures);
    listener.onError(error);
  };

  const open = (): void => {
    const mine = ++attempt;
    busySince = Date.now();
    connectionSettings(client).then(
      (settings) => {
        if (mine !== attempt || closed) return;
        let current: RawConnection;
        try {
          current = client.driver.createConnection(settings);
        } catch (error) {
          return fail(null, error); // settings mysql2 refuses
        }
        connection = current;
        current.on('error', (error) => fail(current, error)); // a fatal error between probes: KILL, a reset
        current.connect((connectError) => {
          if (connectError) return fail(current, connectError);
          if (current !== connection) return; // dropped meanwhile: a deadline, close()
          current.query(BOUNDED_LOCK_WAIT, (settingError) => {
            if (settingError) return fail(current, settingError);
            current.prepare(sql, (prepareError, prepared) => {
              if (prepareError) return fail(current, prepareError);
              if (current !== connection) return;
              statement = prepared;
              busySince = 0;
              // The first read at once: whatever commits before it is part of the marks, and unheard.
              probe(current, prepared);
            });
          });
        });
      },
      (error: unknown) => {
        if (mine === attempt) fail(null, error);
      },
    );
  };

  const probe = (current: RawConnection, prepared: Statement): void => {
    busySince = Date.now();
    prepared.execute([], (error, rows) => {
      if (current !== connection) return; // dropped meanwhile: a deadline, close()
      if (error) return fail(current, error);
      busySince = 0;
      failures = 0;
      const marks = marksOf(rows[0]);
      const previous = last;
      last = marks;
      // The first read is the baseline: whatever committed before it (after a runner's own read
      // at its start) is heard once, as a look again.
      if (previous !== undefined && marks[0] === previous[0] && marks[1] === previous[1]) return;
      if (previous !== undefined) {
        movedAt = Date.now();
        every(rates.fastMs);
      }
      try {
        if (previous === undefined || marks[1] !== previous[1]) listener.onSettingsChange('*');
        if (previous === undefined || marks[0] !== previous[0]) listener.onChange('*');
      } catch (error) {
        listener.onError(error); // a listener's own failure: the connection is fine
      }
    });
  };

  /** Ticks every `ms` from now on (a no-op when already so). */
  const every = (ms: number): void => {
    if (closed || ms === timerMs) return;
    if (timer) clearInterval(timer);
    timerMs = ms;
    timer = setInterval(tick, ms);
    timer.unref();
  };

  const tick = (): void => {
    if (closed) return;
    if (timerMs === rates.fastMs && Date.now() - movedAt > rates.fastForMs) every(rates.slowMs);
    if (busySince > 0) {
      // An open or a probe still out: past the deadline, the connection is presumed lost.
      if (Date.now() - busySince > PROBE_DEADLINE_MS) {
        fail(connection, new Error(`change feed: no answer from the database within ${PROBE_DEADLINE_MS} ms; reconnecting`));
      }
      return;
    }
    if (Date.now() < quietUntil) return;
    if (connection && statement) probe(connection, statement);
    else open();
  };

  every(rates.slowMs);
  tick();
  return {
    get connectionId() {
      return statement ? (connection?.threadId ?? null) : null;
    },
    async close() {
      closed = true;
      attempt += 1;
      if (timer) clearInterval(timer);
      timer = null;
      const current = connection;
      connection = null;
      statement = null;
      if (!current) return;
      // COM_QUIT, so the server ends the session at once; a connection that cannot say it is dropped.
      await new Promise<void>((resolve) => {
        const stop = setTimeout(() => {
          current.destroy();
          current.stream?.destroy();
          resolve();
        }, PROBE_DEADLINE_MS);
        stop.unref();
        current.end(() => {
          clearTimeout(stop);
          resolve();
        });
      });
    },
  };
}

/**
 * The settings the Knex pool connects with: those of the config as Knex keeps them (passed as
 * they are: Knex hides the password in a property a copy would lose), or a connection
 * function's answer, asked afresh (a token in it may have expired since the pool last asked).
 */
async function connectionSettings(client: MysqlClient): Promise<Record<string, unknown>> {
  const provider = client.config.connection;
  if (typeof provider !== 'function') return client.connectionSettings ?? {};
  const answer = (await (provider as () => unknown)()) as Record<string, unknown>;
  // Knex's own key, which mysql2 would warn about.
  const { expirationChecker: _, ...settings } = answer;
  return { ...settings, password: answer['password'] };
}

/** The two marks of the probe's row: the newest id, and the settings versions' sum as text. */
function marksOf(row: Record<string, unknown> | undefined): readonly [unknown, string] {
  return [row?.['queue'] ?? null, String(row?.['settings'] ?? 0)];
}

/** The former probe, through the Knex pool: for a pool of the user's, which the feed cannot connect beside. */
function poolChangeFeed(knex: Knex, sql: string, listener: ChangeListener): MysqlChangeFeed {
  const feed = pollingChangeFeed(
    async () => {
      const [rows] = (await knex.raw(sql)) as [Record<string, unknown>[]];
      return marksOf(rows[0]);
    },
    MYSQL_POOL_PROBE_MS,
    listener,
  );
  return { connectionId: null, close: () => feed.close() };
}
