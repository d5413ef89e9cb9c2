/**
 * The fault specs' TCP proxy (tcp-proxy.ts), against an echo server on 127.0.0.1: forwarding,
 * cut, freeze (existing and new connections), freezeOn, slow, refuse, close, and its counts.
 * No database.
 */
import { once } from 'node:events';
import net from 'node:net';
import { expect } from 'chai';
import { sleep } from './runner-helpers.js';
import { TcpProxy } from './tcp-proxy.js';
import { waitFor } from './wait.js';

/** An echo server that counts the connections it got and has open. */
async function echoServer() {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    open: () => sockets.size,
    /** Closes every connection from the server's side. */
    hangUp: () => sockets.forEach((socket) => socket.end()),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface TestClient {
  socket: net.Socket;
  text(): string;
  closed(): boolean;
  waitForText(text: string, message?: string): Promise<void>;
}

async function connect(port: number): Promise<TestClient> {
  const socket = net.connect({ host: '127.0.0.1', port });
  let received = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  await once(socket, 'connect');
  return {
    socket,
    text: () => received,
    closed: () => closed,
    waitForText: (text, message = `the client received ${JSON.stringify(text)}`) =>
      waitFor(() => received.includes(text), { timeoutMs: 5000, message }).then(() => undefined),
  };
}

describe('TcpProxy (spec support)', function () {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let proxy: TcpProxy;
  const clients: TestClient[] = [];

  async function client(): Promise<TestClient> {
    const opened = await connect(proxy.port);
    clients.push(opened);
    return opened;
  }

  beforeEach(async function () {
    echo = await echoServer();
    proxy = await TcpProxy.start({ port: echo.port });
  });

  afterEach(async function () {
    for (const opened of clients.splice(0)) opened.socket.destroy();
    await proxy.close();
    await echo.close();
  });

  it('forwards both ways and counts the connections', async function () {
    const a = await client();
    const b = await client();
    a.socket.write('hello');
    b.socket.write('world');
    await a.waitForText('hello');
    await b.waitForText('world');
    expect(a.text()).to.equal('hello');
    expect(proxy.stats()).to.include({ accepted: 2, open: 2, refused: 0, cut: 0, held: 0 });
    expect(echo.accepted()).to.equal(2);
  });

  it('rewrites a URL to go through it', function () {
    expect(proxy.urlThrough('postgres://user:pw@db.example:5432/test?sslmode=disable')).to.equal(
      `postgres://user:pw@127.0.0.1:${proxy.port}/test?sslmode=disable`,
    );
  });

  it('passes on a close from the server side', async function () {
    const a = await client();
    a.socket.write('x');
    await a.waitForText('x');
    echo.hangUp();
    await waitFor(() => a.closed(), { message: 'the client saw the close' });
    await waitFor(() => proxy.stats().open === 0, { message: 'the pair left the count' });
  });

  it('cut() destroys every open pair, and new connections still work', async function () {
    const a = await client();
    const b = await client();
    a.socket.write('1');
    b.socket.write('2');
    await a.waitForText('1');
    await b.waitForText('2');

    expect(proxy.cut()).to.equal(2);

    await waitFor(() => a.closed() && b.closed(), { message: 'both clients saw their connection end' });
    await waitFor(() => echo.open() === 0, { message: 'the server saw both connections end' });
    expect(proxy.stats()).to.include({ open: 0, cut: 2 });
    const c = await client();
    c.socket.write('after');
    await c.waitForText('after');
    expect(proxy.stats()).to.include({ accepted: 3, open: 1 });
  });

  it('freeze() holds existing and new connections without closing them; thaw() delivers, in order', async function () {
    const a = await client();
    a.socket.write('before');
    await a.waitForText('before');

    proxy.freeze();
    a.socket.write('-one');
    a.socket.write('-two');
    const b = await client(); // accepted by the proxy's kernel, not connected onwards
    b.socket.write('late');
    await waitFor(() => proxy.stats().held >= 2, { message: 'the chunks held' });
    await sleep(200); // a frozen network delivers nothing, however long one waits
    expect(a.text(), 'nothing through while frozen').to.equal('before');
    expect(b.text()).to.equal('');
    expect(echo.accepted(), 'the new connection was not connected onwards').to.equal(1);
    expect([a.closed(), b.closed()], 'nothing closed').to.deep.equal([false, false]);
    expect(proxy.stats()).to.include({ open: 2 });

    proxy.thaw();
    await a.waitForText('before-one-two');
    await b.waitForText('late');
    expect(echo.accepted()).to.equal(2);
    expect(proxy.stats().held).to.equal(0);
  });

  it('holds a close while frozen and passes it on at the thaw', async function () {
    const a = await client();
    a.socket.write('x');
    await a.waitForText('x');
    proxy.freeze();
    a.socket.destroy();
    await sleep(100);
    expect(echo.open(), 'the server still sees the connection').to.equal(1);
    proxy.thaw();
    await waitFor(() => echo.open() === 0, { message: 'the server saw the close after the thaw' });
  });

  it('freezeOn(patterns) freezes at the first chunk holding one of the patterns, and holds that chunk', async function () {
    const a = await client();
    let frozenAt = '';
    proxy.freezeOn(['CLAIM', 'SKIP LOCKED'], { onFreeze: () => (frozenAt = a.text()) });
    a.socket.write('select 1;');
    await a.waitForText('select 1;');
    expect(proxy.frozen).to.equal(false);

    a.socket.write('update CLAIM;');
    await waitFor(() => proxy.frozen, { message: 'frozen by the pattern' });
    await sleep(100);
    expect(frozenAt).to.equal('select 1;');
    expect(a.text(), 'the chunk with the pattern is held').to.equal('select 1;');

    proxy.thaw();
    await a.waitForText('update CLAIM;');
    a.socket.write('CLAIM again');
    await a.waitForText('CLAIM again', 'a pattern fires once');
    expect(proxy.frozen).to.equal(false);
  });

  it('freezeOn(patterns, { after }) freezes only on a connection that sent `after` first', async function () {
    const a = await client();
    const b = await client();
    proxy.freezeOn('COMMIT', { after: ['SELECT'] });
    a.socket.write('COMMIT;');
    await a.waitForText('COMMIT;', 'a COMMIT before any SELECT passes');
    b.socket.write('SELECT;');
    await b.waitForText('SELECT;');
    a.socket.write('COMMIT again;');
    await a.waitForText('COMMIT again;', "a COMMIT on another connection than the SELECT's passes");
    expect(proxy.frozen).to.equal(false);
    b.socket.write('COMMIT;');
    await waitFor(() => proxy.frozen, { message: 'frozen by the COMMIT after the SELECT' });
    await sleep(100);
    expect(b.text()).to.equal('SELECT;');
    proxy.thaw();
    await b.waitForText('SELECT;COMMIT;');
  });

  it('slow(ms) adds the latency each way and keeps the order', async function () {
    const a = await client();
    proxy.slow(150);
    const sent = Date.now();
    for (const part of ['a', 'b', 'c', 'd']) a.socket.write(part);
    await waitFor(() => proxy.stats().held > 0, { message: 'chunks held by the delay' });
    await a.waitForText('abcd');
    // a lower bound only: one way and back, each delayed by 150 ms (1 ms of timer slack)
    expect(Date.now() - sent).to.be.at.least(2 * 150 - 2);

    proxy.slow(0);
    a.socket.write('e');
    await a.waitForText('abcde');
    expect(() => proxy.slow(-1)).to.throw('non-negative');
  });

  it('refuse() closes new connections at once and leaves open ones alone; admit() ends it', async function () {
    const a = await client();
    proxy.refuse();
    const refused = await client();
    refused.socket.write('ignored');
    await waitFor(() => refused.closed(), { message: 'the refused connection closed' });
    expect(refused.text()).to.equal('');
    a.socket.write('still');
    await a.waitForText('still');
    expect(proxy.stats()).to.include({ accepted: 2, refused: 1, open: 1 });
    expect(echo.accepted()).to.equal(1);

    proxy.admit();
    const b = await client();
    b.socket.write('back');
    await b.waitForText('back');
  });

  it('heal() undoes freeze, slow and refuse at once', async function () {
    const a = await client();
    proxy.slow(50);
    proxy.refuse();
    proxy.freeze();
    a.socket.write('held');
    proxy.heal();
    await a.waitForText('held');
    const b = await client();
    b.socket.write('new');
    await b.waitForText('new');
    expect(proxy.stats()).to.include({ refused: 0 });
  });

  it('close() ends every connection and stops listening', async function () {
    const a = await client();
    a.socket.write('x');
    await a.waitForText('x');
    const port = proxy.port;
    await proxy.close();
    await waitFor(() => a.closed(), { message: 'the open connection ended' });
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.on('error', resolve);
      socket.on('connect', () => resolve(Object.assign(new Error('connected'), { code: 'CONNECTED' })));
    });
    expect(error.code).to.equal('ECONNREFUSED');
    proxy = await TcpProxy.start({ port: echo.port }); // for afterEach
  });
});
