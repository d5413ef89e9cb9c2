/**
 * LISTEN/NOTIFY for PostgreSQL: a statement-level trigger announces the queues that got new
 * rows (delivered at commit, so a rolled-back enqueue wakes nobody), and a dedicated
 * connection outside the pool listens, reconnecting with backoff when it is lost. A hint
 * only: runners still poll.
 */
import type { Knex } from 'knex';
import type { ChangeFeed, ChangeListener, TableNames } from '../adapter.js';

export const notifyChannel = (tables: TableNames): string => `taskstore_${tables.taskQueue}`;
/**
 * Cancels of running items, as `<id>:<token>`: a channel of their own, so no queue name can
 * ever be read as one (a table name has at most 40 characters: the channel fits in 63).
 */
export const cancelChannel = (tables: TableNames): string => `taskstore_${tables.taskQueue}_cancel`;

/** Announces a cancel of a running item (delivered at once: the statement runs outside a transaction). */
export async function notifyCanceled(knex: Knex, tables: TableNames, id: string, token: string): Promise<void> {
  await knex.raw('SELECT pg_notify(?, ?)', [cancelChannel(tables), `${id}:${token}`]);
}

/** Settings writes (pause, resume, limits) announce the queue here, inside their transaction. */
export const settingsChannel = (tables: TableNames): string => `taskstore_${tables.taskQueue}_settings`;

/**
 * Idempotent, and quiet when already installed: creating a trigger locks the table, so it
 * is done only when missing (TaskStore.open runs the migrations every time).
 */
export async function installNotifyTrigger(knex: Knex, tables: TableNames): Promise<boolean> {
  const table = tables.taskQueue; // a validated plain identifier
  const existing = await knex.raw(`SELECT 1 FROM pg_trigger WHERE tgname = ? AND tgrelid = to_regclass(?)`, [`${table}_notify`, table]);
  if ((existing as { rows: unknown[] }).rows.length > 0) return false;
  await knex.raw(`
    CREATE OR REPLACE FUNCTION "${table}_notify_fn"() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('${notifyChannel(tables)}', queue_name)
        FROM (SELECT DISTINCT queue_name FROM new_rows WHERE status = 'queued') AS queues;
      RETURN NULL;
    END $$`);
  await knex.raw(`
    CREATE TRIGGER "${table}_notify" AFTER INSERT ON "${table}"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "${table}_notify_fn"()`);
  return true;
}

export async function dropNotifyTrigger(knex: Knex, tables: TableNames): Promise<void> {
  await knex.raw(`DROP FUNCTION IF EXISTS "${tables.taskQueue}_notify_fn"() CASCADE`);
}

interface PgClient {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): void;
  on(event: 'error' | 'end', listener: (error?: Error) => void): void;
  removeAllListeners(): void;
}

interface RawClient {
  acquireRawConnection(): Promise<PgClient>;
  destroyRawConnection(connection: PgClient): Promise<void>;
}

export function listenChangeFeed(knex: Knex, tables: TableNames, listener: ChangeListener): ChangeFeed {
  const client = (knex as unknown as { client: RawClient }).client;
  const channel = notifyChannel(tables);
  const cancels = cancelChannel(tables);
  const settings = settingsChannel(tables);
  let connection: PgClient | null = null;
  let closed = false;
  let failures = 0;
  let retry: NodeJS.Timeout | null = null;

  const connect = async (): Promise<void> => {
    if (closed) return;
    try {
      const next = await client.acquireRawConnection();
      next.on('notification', (message) => {
        if (message.channel === channel) listener.onChange(message.payload ?? '*');
        else if (message.channel === cancels) {
          const [id, token] = (message.payload ?? '').split(':');
          if (id && token) listener.onCanceled?.(id, token);
        } else if (message.channel === settings) listener.onSettingsChange(message.payload ?? '*');
      });
      const lost = (error?: Error) => {
        if (connection !== next) return;
        connection = null;
        next.removeAllListeners();
        // pg emits 'error' again when the socket finally closes: keep a listener, or that
        // second error would crash the process.
        next.on('error', () => {});
        void client.destroyRawConnection(next).catch(() => {});
        if (!closed) {
          listener.onError(error ?? new Error('LISTEN connection ended'));
          schedule();
        }
      };
      next.on('error', lost);
      next.on('end', lost);
      await next.query(`LISTEN "${channel}"; LISTEN "${cancels}"; LISTEN "${settings}"`);
      connection = next;
      if (closed) await client.destroyRawConnection(next).catch(() => {});
      // Anything enqueued or configured while we were not listening (before the first LISTEN
      // too: a runner reads its queue's settings when it starts, and a pause between that read
      // and the LISTEN would go unheard): let the runners look once.
      listener.onSettingsChange('*');
      listener.onChange('*');
      failures = 0;
    } catch (error) {
      if (closed) return;
      listener.onError(error);
      schedule();
    }
  };
  const schedule = () => {
    failures += 1;
    retry = setTimeout(() => void connect(), Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
    retry.unref();
  };
  void connect();

  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const current = connection;
      connection = null;
      if (current) {
        current.removeAllListeners();
        current.on('error', () => {});
        await client.destroyRawConnection(current).catch(() => {});
      }
    },
  };
}
