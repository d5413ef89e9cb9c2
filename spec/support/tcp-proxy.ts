/**
 * A TCP proxy for fault specs: listens on 127.0.0.1 (a free port) and forwards each
 * connection to a target, with a broken network at hand:
 *
 * - `cut()` destroys every open connection pair at once (both sockets); new connections still
 *   work. As a database restart or a NAT timeout looks to a client.
 * - `freeze()` stops forwarding in both directions and closes nothing: bytes, and closes, are
 *   held, and a new connection is accepted but not connected onwards. Existing and new
 *   connections hang, as over a dead network (half-open). `thaw()` delivers what was held, in
 *   order, and connects what waited. Note: the client's TCP peer is this proxy, whose kernel
 *   still answers TCP keepalive probes; only deadlines in the client notice a freeze.
 * - `freezeOn(patterns)` arms a freeze that begins the moment a chunk from a client contains
 *   one of `patterns` (that chunk is held too): "freeze during the claim", as statements travel
 *   as text (PostgreSQL statement names and texts, MySQL queries).
 * - `slow(ms)` delays every chunk, each way, by `ms` (order kept); `slow(0)` ends it.
 * - `refuse()` closes new connections at once; `admit()` ends that.
 * - `heal()` = thaw, slow(0), admit, disarm. `close()` ends it all.
 *
 * No backpressure: meant for test-sized traffic. Only 127.0.0.1.
 */
import net from 'node:net';

export interface TcpProxyTarget {
  host?: string;
  port: number;
}

export interface TcpProxyStats {
  /** Connections accepted from clients (refused ones included). */
  accepted: number;
  /** Connections closed at once because the proxy refused them. */
  refused: number;
  /** Connection pairs open now (a pair waiting for a thaw to connect onwards included). */
  open: number;
  /** Pairs destroyed by cut(). */
  cut: number;
  /** Chunks held now by a freeze or a delay, both ways. */
  held: number;
}

type Step = { kind: 'data'; chunk: Buffer; dueAt: number } | { kind: 'end'; dueAt: number };

/** One direction of a pair: what `from` sent, on its way to `to`. */
class Lane {
  readonly steps: Step[] = [];
  #timer: NodeJS.Timeout | null = null;
  ended = false;

  constructor(
    readonly proxy: TcpProxy,
    readonly target: () => net.Socket | null,
  ) {}

  push(step: Step): void {
    this.steps.push(step);
    this.pump();
  }

  /** Forwards every step that is due, unless frozen or the far side is not connected yet. */
  pump(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const to = this.target();
    if (this.proxy.frozen || !to || to.connecting) return;
    const now = Date.now();
    while (this.steps.length > 0) {
      const step = this.steps[0]!;
      if (step.dueAt > now) {
        this.#timer = setTimeout(() => this.pump(), step.dueAt - now);
        return;
      }
      this.steps.shift();
      if (to.destroyed) continue;
      if (step.kind === 'data') to.write(step.chunk);
      else if (!this.ended) {
        this.ended = true;
        to.end();
      }
    }
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.steps.length = 0;
  }
}

/** A client connection and its connection onwards (null until connected). */
class Pair {
  upstream: net.Socket | null = null;
  readonly up: Lane;
  readonly down: Lane;
  closed = false;

  constructor(
    readonly proxy: TcpProxy,
    readonly client: net.Socket,
  ) {
    this.up = new Lane(proxy, () => this.upstream);
    this.down = new Lane(proxy, () => this.client);
    client.on('error', () => undefined);
    client.on('data', (chunk: Buffer) => {
      proxy.inspect(this, chunk);
      this.up.push({ kind: 'data', chunk, dueAt: Date.now() + proxy.delayMs });
    });
    client.on('end', () => this.up.push({ kind: 'end', dueAt: Date.now() + proxy.delayMs }));
    client.on('close', () => this.#sideClosed(this.up));
  }

  connect(target: Required<TcpProxyTarget>): void {
    if (this.upstream || this.closed) return;
    const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    this.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.on('connect', () => this.up.pump());
    upstream.on('data', (chunk: Buffer) => this.down.push({ kind: 'data', chunk, dueAt: Date.now() + this.proxy.delayMs }));
    upstream.on('end', () => this.down.push({ kind: 'end', dueAt: Date.now() + this.proxy.delayMs }));
    upstream.on('close', () => this.#sideClosed(this.down));
  }

  /** One socket closed: the other gets an end after what was already on its way (held by a freeze like the rest). */
  #sideClosed(lane: Lane): void {
    lane.push({ kind: 'end', dueAt: Date.now() + this.proxy.delayMs });
    if (this.client.destroyed && (this.upstream === null || this.upstream.destroyed)) this.proxy.forget(this);
  }

  pump(): void {
    this.up.pump();
    this.down.pump();
  }

  held(): number {
    return this.up.steps.length + this.down.steps.length;
  }

  destroy(): void {
    this.closed = true;
    this.up.dispose();
    this.down.dispose();
    this.client.destroy();
    this.upstream?.destroy();
  }
}

export class TcpProxy {
  readonly #server: net.Server;
  readonly #target: Required<TcpProxyTarget>;
  readonly #pairs = new Set<Pair>();
  #frozen = false;
  #refusing = false;
  #delayMs = 0;
  #armed: { patterns: Buffer[]; after: Buffer[]; primed: WeakSet<Pair>; onFreeze?: () => void } | null = null;
  #closing: Promise<void> | null = null;
  #accepted = 0;
  #refused = 0;
  #cut = 0;

  private constructor(server: net.Server, target: Required<TcpProxyTarget>) {
    this.#server = server;
    this.#target = target;
    server.on('connection', (socket) => this.#accept(socket));
  }

  /** Starts a proxy on 127.0.0.1 and a free port, forwarding to `target`. */
  static async start(target: TcpProxyTarget): Promise<TcpProxy> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false });
    const proxy = new TcpProxy(server, { host: target.host ?? '127.0.0.1', port: target.port });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  /** The port clients connect to (on 127.0.0.1). */
  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** `url` with its host and port replaced by the proxy's. */
  urlThrough(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  get delayMs(): number {
    return this.#delayMs;
  }

  stats(): TcpProxyStats {
    let held = 0;
    for (const pair of this.#pairs) held += pair.held();
    return { accepted: this.#accepted, refused: this.#refused, open: this.#pairs.size, cut: this.#cut, held };
  }

  /** Destroys every open connection pair; returns how many. New connections still work. */
  cut(): number {
    const pairs = [...this.#pairs];
    this.#pairs.clear();
    for (const pair of pairs) pair.destroy();
    this.#cut += pairs.length;
    return pairs.length;
  }

  /** Stops forwarding both ways, for existing and new connections, closing nothing. */
  freeze(): void {
    this.#frozen = true;
    this.#armed = null;
  }

  /**
   * Freezes the moment a chunk from a client contains one of `patterns`; that chunk is held
   * with the rest. With `after`, only on a connection that sent one of those first, or in the
   * same chunk (the COMMIT after a claim's SELECT, say). `onFreeze` is called then. Fires once; a freeze() or heal()
   * disarms it.
   */
  freezeOn(patterns: string | readonly string[], options: { after?: readonly string[]; onFreeze?: () => void } = {}): void {
    const buffers = (list: string | readonly string[]) => (typeof list === 'string' ? [list] : [...list]).map((text) => Buffer.from(text));
    this.#armed = {
      patterns: buffers(patterns),
      after: buffers(options.after ?? []),
      primed: new WeakSet(),
      ...(options.onFreeze ? { onFreeze: options.onFreeze } : {}),
    };
  }

  /** Delivers what a freeze held, in order, and connects onwards the connections that waited. */
  thaw(): void {
    this.#frozen = false;
    for (const pair of this.#pairs) {
      if (!pair.upstream) pair.connect(this.#target);
      pair.pump();
    }
  }

  /** Adds `ms` of latency to every chunk, each way (0 ends it). Chunks already on their way keep theirs. */
  slow(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`slow: ms must be a non-negative number (got ${ms})`);
    this.#delayMs = ms;
  }

  /** Closes new connections at once, until admit(). */
  refuse(): void {
    this.#refusing = true;
  }

  admit(): void {
    this.#refusing = false;
  }

  /** Back to a healthy network: thaw, no delay, admit, nothing armed. */
  heal(): void {
    this.#armed = null;
    this.#delayMs = 0;
    this.#refusing = false;
    this.thaw();
  }

  /** Stops listening and destroys every connection; a second call waits for the same close. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#armed = null;
      this.heal();
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.cut();
      await closed;
    })();
    return this.#closing;
  }

  /** @internal Called with every chunk from a client, before it is queued. */
  inspect(pair: Pair, chunk: Buffer): void {
    const armed = this.#armed;
    if (!armed) return;
    if (armed.after.some((pattern) => chunk.includes(pattern))) armed.primed.add(pair);
    const ready = armed.after.length === 0 || armed.primed.has(pair);
    if (!ready || !armed.patterns.some((pattern) => chunk.includes(pattern))) return;
    this.#armed = null;
    this.#frozen = true;
    armed.onFreeze?.();
  }

  /** @internal A pair whose sockets are both closed leaves the count. */
  forget(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    pair.destroy();
  }

  #accept(socket: net.Socket): void {
    this.#accepted += 1;
    if (this.#refusing) {
      this.#refused += 1;
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    const pair = new Pair(this, socket);
    this.#pairs.add(pair);
    if (!this.#frozen) pair.connect(this.#target);
  }
}
