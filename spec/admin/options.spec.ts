/**
 * The dashboard's options, no database needed: unknown keys, values of the wrong kind, the
 * documented defaults, and a frozen result. createAdminHandler checks its options before it
 * touches the store.
 */
import { expect } from 'chai';
import { createAdminHandler, type AdminHandlerOptions } from '../../lib/admin/index.js';
import { resolveAdminOptions } from '../../lib/admin/options.js';
import { expectThrows } from '../support/index.js';
import type { TaskStore } from '../../lib/index.js';

/** Never used: the options are rejected first. */
const UNUSED_STORE = {} as TaskStore;

describe('dashboard options', () => {
  const BAD_VALUES: [keyof AdminHandlerOptions, unknown][] = [
    ['basePath', 'admin'],
    ['basePath', '/admin tasks'],
    ['basePath', 5],
    ['basePath', null],
    ['authorize', true],
    ['readOnly', 'true'],
    ['readOnly', 1],
    ['readOnly', null],
    ['allowRemote', 'yes'],
    ['csrfSecret', 'short'],
    ['csrfSecret', 42],
    ['csrfSecret', Buffer.alloc(0)],
    ['csrfSecret', Buffer.alloc(15, 1)],
    ['allowedHosts', 'localhost'],
    ['allowedHosts', false],
    ['allowedHosts', ['*']],
    ['allowedHosts', ['tasks.example.com:8080']],
    ['allowedHosts', ['http://tasks.example.com']],
    ['allowedHosts', ['tasks.example.com/admin']],
    ['allowedHosts', ['user@tasks.example.com']],
    ['allowedHosts', ['']],
    ['allowedHosts', ['.']],
    ['allowedHosts', [5]],
    ['bodyTimeoutMs', 0],
    ['bodyTimeoutMs', '1000'],
    ['bodyTimeoutMs', 2 ** 31],
    ['queues', 'default'],
    ['queues', ['default', '']],
    ['queues', [7]],
    ['countCap', 0],
    ['countCap', 1.5],
    ['countCap', '100'],
    ['countCap', 1_000_001],
    ['title', 5],
    ['title', null],
    ['remoteRefusalHint', 5],
  ];

  for (const [option, value] of BAD_VALUES) {
    it(`throws INVALID_ARGUMENT naming ${option} for ${option}: ${JSON.stringify(value)}`, function () {
      expectThrows(() => createAdminHandler(UNUSED_STORE, { [option]: value } as AdminHandlerOptions), 'INVALID_ARGUMENT', option);
    });
  }

  it('throws INVALID_ARGUMENT naming an unknown option', function () {
    expectThrows(
      () => createAdminHandler(UNUSED_STORE, { basepath: '/admin' } as unknown as AdminHandlerOptions),
      'INVALID_ARGUMENT',
      "createAdminHandler: options: unknown option 'basepath'",
    );
  });

  it('throws INVALID_ARGUMENT for options that are not a plain object', function () {
    for (const options of [null, [], 'admin', 5]) {
      expectThrows(() => createAdminHandler(UNUSED_STORE, options as unknown as AdminHandlerOptions), 'INVALID_ARGUMENT', 'options');
    }
  });

  it('resolves the documented defaults, frozen; undefined values count as absent', function () {
    for (const resolved of [
      resolveAdminOptions(),
      resolveAdminOptions({}),
      resolveAdminOptions({ basePath: undefined, title: undefined }),
    ]) {
      expect(resolved).to.deep.equal({
        basePath: '',
        authorize: null,
        readOnly: false,
        allowRemote: false,
        allowedHosts: [],
        bodyTimeoutMs: 20_000,
        csrfSecret: undefined,
        queues: [],
        countCap: 10_000,
        title: 'taskstore',
        remoteRefusalHint: 'Pass authorize(req) to createAdminHandler, or readOnly: true, or allowRemote: true to serve it anyway.',
      });
      expect(Object.isFrozen(resolved)).to.equal(true);
      expect(Object.isFrozen(resolved.queues)).to.equal(true);
    }
  });

  it('keeps the given values, without the trailing slash of basePath', function () {
    const authorize = () => true;
    const resolved = resolveAdminOptions({
      basePath: '/admin/tasks/',
      authorize,
      readOnly: true,
      allowRemote: true,
      allowedHosts: ['tasks.example.com'],
      bodyTimeoutMs: 5000,
      csrfSecret: 'a-secret-of-16-chars',
      queues: ['emails'],
      countCap: 500,
      title: 'jobs',
      remoteRefusalHint: 'Ask the admins for VPN access.',
    });
    expect(resolved).to.deep.equal({
      basePath: '/admin/tasks',
      authorize,
      readOnly: true,
      allowRemote: true,
      allowedHosts: ['tasks.example.com'],
      bodyTimeoutMs: 5000,
      csrfSecret: 'a-secret-of-16-chars',
      queues: ['emails'],
      countCap: 500,
      title: 'jobs',
      remoteRefusalHint: 'Ask the admins for VPN access.',
    });
  });

  it('accepts a Buffer csrfSecret of 16 bytes or more', function () {
    expect(resolveAdminOptions({ csrfSecret: Buffer.alloc(16, 7) }).csrfSecret).to.have.length(16);
  });

  it('puts allowedHosts in canonical form: lower case, punycode, IPv6 in brackets, no trailing dot; true stays true', function () {
    expect(
      resolveAdminOptions({
        allowedHosts: ['Tasks.Example.COM', '.Corp.Example', 'tâches.example', 'fd00::1', '[FD00::2]', '10.0.0.5', 'host.lan.'],
      }).allowedHosts,
    ).to.deep.equal(['tasks.example.com', '.corp.example', 'xn--tches-3qa.example', '[fd00::1]', '[fd00::2]', '10.0.0.5', 'host.lan']);
    expect(resolveAdminOptions({ allowedHosts: true }).allowedHosts).to.equal(true);
    expect(Object.isFrozen(resolveAdminOptions({ allowedHosts: ['a.example'] }).allowedHosts)).to.equal(true);
  });
});
