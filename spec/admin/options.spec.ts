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
    ['queues', 'default'],
    ['queues', ['default', '']],
    ['queues', [7]],
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
        csrfSecret: undefined,
        queues: [],
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
      csrfSecret: 'a-secret-of-16-chars',
      queues: ['emails'],
      title: 'jobs',
      remoteRefusalHint: 'Ask the admins for VPN access.',
    });
    expect(resolved).to.deep.equal({
      basePath: '/admin/tasks',
      authorize,
      readOnly: true,
      allowRemote: true,
      csrfSecret: 'a-secret-of-16-chars',
      queues: ['emails'],
      title: 'jobs',
      remoteRefusalHint: 'Ask the admins for VPN access.',
    });
  });
});
