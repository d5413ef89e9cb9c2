/**
 * Database URLs a store cannot use, made from a dialect's working test URL: a port nobody
 * listens on, an unknown user, a database that does not exist, no database name (MySQL), and
 * for SQLite a file in a directory that does not exist.
 */
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dialect } from '../../lib/index.js';
import { randomName } from './dialects.js';

export interface UnusableDatabase {
  /** What is wrong with it, for test titles and messages. */
  readonly what: string;
  readonly url: string;
}

/** A port on 127.0.0.1 that was free a moment ago (the OS picked it, and it was let go). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from the OS');
  return address.port;
}

export async function unusableDatabases(dialect: Dialect, url: string): Promise<UnusableDatabase[]> {
  if (dialect === 'sqlite') {
    return [{ what: 'a file in a missing directory', url: `sqlite:${join(tmpdir(), randomName('missing'), 'tasks.db')}` }];
  }
  const port = await freePort();
  const variant = (change: (url: URL) => void): string => {
    const changed = new URL(url);
    change(changed);
    return changed.toString();
  };
  const unusable: UnusableDatabase[] = [
    { what: 'a port nobody listens on', url: variant((u) => (u.port = String(port))) },
    {
      what: 'an unknown user',
      url: variant((u) => {
        u.username = 'nosuchuser';
        u.password = dialect === 'mysql' ? 'x' : '';
      }),
    },
    { what: 'a database that does not exist', url: variant((u) => (u.pathname = `/${randomName('nosuchdb')}`)) },
  ];
  // PostgreSQL connects to the user's own database when the URL names none; MySQL selects none.
  if (dialect === 'mysql') unusable.push({ what: 'no database name', url: variant((u) => (u.pathname = '')) });
  return unusable;
}
