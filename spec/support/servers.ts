/**
 * Extra database servers for the crash specs, never the shared ones: a PostgreSQL or MariaDB
 * instance of its own, on a free port of 127.0.0.1, with its data directory in a temp dir.
 *
 * - PostgreSQL: `initdb -A trust -U postgres` and `postgres -D <dir> -c listen_addresses=127.0.0.1
 *   -p <port> -k <dir>` from /usr/lib/postgresql/<version>/bin (version: /etc/postgresql), then
 *   `CREATE DATABASE test`.
 * - MariaDB: `mariadb-install-db --no-defaults --auth-root-authentication-method=normal`, then
 *   `mariadbd --no-defaults --port=<port> --bind-address=127.0.0.1 --socket=<dir>/mysqld.sock`
 *   (root@127.0.0.1 with an empty password, as the installer creates it), then
 *   `CREATE DATABASE test`.
 *
 * Run as root (as CI does), both run as their own OS user (postgres, mysql; spawned with its
 * uid and gid): initdb refuses root. Not root, they run as the current user. The server's
 * output goes to <dir>/server.log. The server is spawned as the leader of a process group of its own, so `kill()` is a
 * crash of the whole server (SIGKILL to every process of it), and `restart()` starts it again
 * on the same data directory and port (crash recovery). `stop()` kills it and removes the temp
 * dir; a process exit does both for any instance still up. Readiness: a bounded poll that
 * connects.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';

export type ServerKind = 'postgres' | 'mysql';

export interface ServerTimings {
  /** initdb / mariadb-install-db. */
  initMs: number;
  /** First start until a connection succeeds (database `test` created after that). */
  startMs: number;
  /** Each restart() until a connection succeeds (crash recovery included). */
  restartMs: number[];
}

export interface ServerInstance {
  readonly kind: ServerKind;
  readonly port: number;
  /** A TaskStore `database` URL for the instance's database `test`. */
  readonly url: string;
  readonly dir: string;
  readonly timings: ServerTimings;
  /** True while the server process runs. */
  isUp(): boolean;
  /** SIGKILL to every process of the server; resolves once all are gone. */
  kill(): Promise<void>;
  /** Starts it again on the same data directory and port; resolves once it takes connections. */
  restart(): Promise<void>;
  /** Kills it (if up) and removes its temp dir. */
  stop(): Promise<void>;
  /** The end of the server's log, for failure messages. */
  logTail(lines?: number): string;
}

const READY_TIMEOUT_MS = 60_000;
const GONE_TIMEOUT_MS = 15_000;

/** Instances not stopped yet: a process exit (or SIGINT, SIGTERM) kills them and removes their dirs. */
const live = new Set<Instance>();
let cleanupInstalled = false;

function killAllNow(): void {
  for (const instance of live) instance.killNow();
  for (const instance of live) rmSync(instance.dir, { recursive: true, force: true });
  live.clear();
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.once('exit', killAllNow);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      killAllNow();
      process.exit(code);
    });
  }
}

export function startServer(kind: ServerKind): Promise<ServerInstance> {
  return kind === 'postgres' ? startPostgres() : startMariadb();
}

export async function startPostgres(): Promise<ServerInstance> {
  const bin = postgresBin();
  const instance = new Instance('postgres', await freePort(), 'postgres', (self) => ({
    command: join(bin, 'postgres'),
    args: [
      '-D',
      join(self.dir, 'data'),
      '-p',
      String(self.port),
      '-k',
      self.dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=100',
      '-c',
      'shared_buffers=32MB',
      // a crash of the server process, not of the machine: the OS keeps what was written
      '-c',
      'fsync=off',
    ],
  }));
  return instance.prepare(
    () =>
      instance.init(join(bin, 'initdb'), ['-D', join(instance.dir, 'data'), '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']),
    () => withPg(instance.port, 'postgres', (client) => client.query('CREATE DATABASE test')),
  );
}

export async function startMariadb(): Promise<ServerInstance> {
  const instance = new Instance('mysql', await freePort(), 'mysql', (self) => ({
    command: mariadbBinary('mariadbd'),
    args: [
      '--no-defaults',
      `--datadir=${join(self.dir, 'data')}`,
      `--port=${self.port}`,
      '--bind-address=127.0.0.1',
      `--socket=${join(self.dir, 'mysqld.sock')}`,
      `--pid-file=${join(self.dir, 'mysqld.pid')}`,
      '--innodb-buffer-pool-size=64M',
      '--innodb-log-file-size=16M',
      '--skip-name-resolve',
      ...(self.runAs ? [`--user=${self.runAs.name}`] : []),
    ],
  }));
  return instance.prepare(
    () =>
      instance.init(mariadbBinary('mariadb-install-db'), [
        '--no-defaults',
        `--datadir=${join(instance.dir, 'data')}`,
        '--innodb-log-file-size=16M',
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--skip-name-resolve',
        ...(instance.runAs ? [`--user=${instance.runAs.name}`] : []),
      ]),
    () => withMysql(instance.port, (connection) => connection.query('CREATE DATABASE test')),
  );
}

/** /usr/lib/postgresql/<version>/bin for the version under /etc/postgresql (the newest if several). */
function postgresBin(): string {
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
  const version = versions.sort((a, b) => Number(b) - Number(a))[0];
  const bin = version === undefined ? undefined : `/usr/lib/postgresql/${version}/bin`;
  if (!bin || !existsSync(join(bin, 'postgres'))) {
    throw new Error(
      `no PostgreSQL server binaries (looked for /usr/lib/postgresql/<version>/bin, version from /etc/postgresql: ${versions.join(', ') || 'none'})`,
    );
  }
  return bin;
}

/** A MariaDB program from /usr/sbin or /usr/bin (root's PATH and a user's differ), else by name. */
function mariadbBinary(name: string): string {
  return (
    ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'].map((dir) => join(dir, name)).find((path) => existsSync(path)) ?? name
  );
}

interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

/** The OS user a server runs as when we are root (initdb refuses root); null when we are not. */
function serviceUser(name: string): OsUser | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { name, uid: id('-u'), gid: id('-g') };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

class Instance implements ServerInstance {
  readonly dir: string;
  readonly runAs: OsUser | null;
  readonly timings: ServerTimings = { initMs: 0, startMs: 0, restartMs: [] };
  #child: ChildProcess | null = null;
  /** The process group of the server (its leader's pid), until a kill found it empty. */
  #group: number | null = null;
  #exited: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    readonly kind: ServerKind,
    readonly port: number,
    user: string,
    readonly command: (self: Instance) => { command: string; args: string[] },
  ) {
    this.runAs = serviceUser(user);
    this.dir = mkdtempSync(join(tmpdir(), `taskstore-${kind}-`));
    installCleanup();
    live.add(this);
    if (this.runAs) chownSync(this.dir, this.runAs.uid, this.runAs.gid);
  }

  get url(): string {
    return this.kind === 'postgres' ? `postgres://postgres@127.0.0.1:${this.port}/test` : `mysql://root@127.0.0.1:${this.port}/test`;
  }

  get log(): string {
    return join(this.dir, 'server.log');
  }

  isUp(): boolean {
    return this.#child !== null;
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no server log)';
    }
  }

  /** Runs the data-directory initialisation (as the service user for initdb; install-db switches itself). */
  async init(command: string, args: string[]): Promise<void> {
    const began = Date.now();
    const asUser = this.kind === 'postgres' && this.runAs ? { uid: this.runAs.uid, gid: this.runAs.gid } : {};
    await new Promise<string>((resolve, reject) => {
      const child = spawn(command, args, { ...asUser, cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), READY_TIMEOUT_MS);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`${command}: ${error.message}`));
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(text);
        else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${text.slice(-3000)}`));
      });
    });
    this.timings.initMs = Date.now() - began;
  }

  /** Initialises the data directory, starts the server, creates the database; cleans up on failure. */
  async prepare(init: () => Promise<void>, createDatabase: () => Promise<unknown>): Promise<this> {
    try {
      await init();
      const began = Date.now();
      await this.#launch();
      this.timings.startMs = Date.now() - began;
      await createDatabase();
      return this;
    } catch (error) {
      await this.stop().catch(() => undefined);
      throw error;
    }
  }

  async kill(): Promise<void> {
    const group = this.#group;
    if (group === null) return;
    this.killNow();
    await this.#exited;
    await groupGone(group, this.kind);
    this.#group = null;
  }

  async restart(): Promise<void> {
    if (this.#stopped) throw new Error(`${this.kind} instance on port ${this.port} was stopped`);
    await this.kill();
    const began = Date.now();
    await this.#launch();
    this.timings.restartMs.push(Date.now() - began);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      await this.kill();
    } finally {
      live.delete(this);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** SIGKILL to the server's process group, without waiting. */
  killNow(): void {
    if (this.#group === null) return;
    try {
      process.kill(-this.#group, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  async #launch(): Promise<void> {
    const { command, args } = this.command(this);
    const logFd = openSync(this.log, 'a');
    const asUser = this.runAs ? { uid: this.runAs.uid, gid: this.runAs.gid } : {};
    let child: ChildProcess;
    try {
      // its own process group (detached), so a kill reaches every process of the server
      child = spawn(command, args, { ...asUser, cwd: this.dir, detached: true, stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    this.#child = child;
    this.#group = child.pid ?? null;
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        if (this.#child === child) this.#child = null;
        resolve();
      });
      child.once('error', () => {
        if (this.#child === child) this.#child = null;
        resolve();
      });
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let lastError: unknown;
    for (;;) {
      if (this.#child !== child) throw new Error(`${this.kind} server exited while starting:\n${this.logTail()}`);
      try {
        if (this.kind === 'postgres') await withPg(this.port, 'postgres', (client) => client.query('SELECT 1'));
        else await withMysql(this.port, (connection) => connection.query('SELECT 1'));
        return;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() > deadline) {
        this.killNow();
        throw new Error(`${this.kind} server not ready within ${READY_TIMEOUT_MS} ms (${String(lastError)}):\n${this.logTail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Waits until no live process is left in process group `group`: a server's children outlive
 * its leader for a moment. Zombies count as gone (whoever reaps orphans may be slow to).
 */
async function groupGone(group: number, kind: ServerKind): Promise<void> {
  const deadline = Date.now() + GONE_TIMEOUT_MS;
  while (liveMembers(group) > 0) {
    if (Date.now() > deadline) throw new Error(`${kind} processes of group ${group} still alive ${GONE_TIMEOUT_MS} ms after SIGKILL`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Processes of group `group` that are not zombies, from /proc (Linux). */
function liveMembers(group: number): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === group && state !== 'Z' && state !== 'X') count += 1;
  }
  return count;
}

async function withPg<T>(port: number, database: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function withMysql<T>(port: number, use: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 2000 });
  connection.on('error', () => undefined);
  try {
    return await use(connection);
  } finally {
    await connection.end().catch(() => undefined);
  }
}
