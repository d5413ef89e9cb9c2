import { expect } from 'chai';
import { UUID_V7, clockPast, expectError, forEachDialect } from '../support/index.js';

forEachDialect('task definitions', (t) => {
  it('creates with defaults: UUIDv7 id, empty description and memo, active, maxAttempts 1, live', async function () {
    const before = Date.now();
    const definition = await t.store.taskDefinitionCreate({ alias: 'HelloWorld' });
    expect(definition.id).to.match(UUID_V7);
    expect(definition).to.include({ alias: 'HelloWorld', description: '', memo: '', status: 'active', maxAttempts: 1 });
    expect(definition.title).to.be.a('string');
    expect(definition.softDeletedAt).to.equal(null);
    expect(definition.createdAt).to.be.instanceOf(Date);
    expect(definition.updatedAt).to.be.instanceOf(Date);
    expect(definition.createdAt.getTime()).to.be.within(before - 1000, Date.now() + 1000);
  });

  it('stores every given field and reads it back equal', async function () {
    const created = await t.store.taskDefinitionCreate({
      alias: 'Full',
      title: 'A title',
      description: 'Ünïcødé description ✓',
      memo: 'memo',
      status: 'canceled',
      maxAttempts: 4,
    });
    const found = await t.store.taskDefinitionFindById(created.id);
    expect(found).to.deep.equal(created);
    expect(found).to.include({ title: 'A title', description: 'Ünïcødé description ✓', memo: 'memo', status: 'canceled', maxAttempts: 4 });
  });

  it('gives distinct ids', async function () {
    const a = await t.store.taskDefinitionCreate({ alias: 'A' });
    const b = await t.store.taskDefinitionCreate({ alias: 'B' });
    expect(a.id).to.not.equal(b.id);
  });

  it('finds by alias ignoring case, dashes, underscores and spaces', async function () {
    const created = await t.store.taskDefinitionCreate({ alias: 'HelloWorld' });
    for (const alias of ['HelloWorld', 'hello-world', 'HELLO_WORLD', 'hello world', 'h-e_l l-o-world']) {
      expect((await t.store.taskDefinitionFindByAlias(alias))?.id, alias).to.equal(created.id);
    }
    expect(await t.store.taskDefinitionFindByAlias('HelloWorlds')).to.equal(null);
  });

  it('rejects a second live definition with the same normalised alias (ALREADY_EXISTS) and writes nothing', async function () {
    await t.store.taskDefinitionCreate({ alias: 'SendEmail' });
    await expectError(() => t.store.taskDefinitionCreate({ alias: 'send_email' }), 'ALREADY_EXISTS');
    await expectError(() => t.store.taskDefinitionCreate({ alias: 'SendEmail' }), 'ALREADY_EXISTS');
    expect(await t.store.taskDefinitionCount({ includeSoftDeleted: true })).to.equal(1);
  });

  it('frees the alias once soft deleted, and refuses to restore over a live holder', async function () {
    const first = await t.store.taskDefinitionCreate({ alias: 'Reusable' });
    await t.store.taskDefinitionSoftDeleteById(first.id);
    const second = await t.store.taskDefinitionCreate({ alias: 'reusable' });
    expect(second.id).to.not.equal(first.id);
    expect((await t.store.taskDefinitionFindByAlias('Reusable'))?.id).to.equal(second.id);
    await expectError(() => t.store.taskDefinitionRestoreById(first.id), 'ALREADY_EXISTS');
    expect(await t.store.taskDefinitionFindById(first.id)).to.equal(null);
  });

  it('rejects an update that would give a live definition another live one’s alias', async function () {
    await t.store.taskDefinitionCreate({ alias: 'Taken' });
    const other = await t.store.taskDefinitionCreate({ alias: 'Other' });
    await expectError(() => t.store.taskDefinitionUpdate({ id: other.id, alias: 'TAKEN' }), 'ALREADY_EXISTS');
    expect((await t.store.taskDefinitionFindById(other.id))?.alias).to.equal('Other');
  });

  it('lets a definition be renamed to a spelling of its own alias', async function () {
    const definition = await t.store.taskDefinitionCreate({ alias: 'HelloWorld' });
    const renamed = await t.store.taskDefinitionUpdate({ id: definition.id, alias: 'hello-world' });
    expect(renamed.alias).to.equal('hello-world');
    expect((await t.store.taskDefinitionFindByAlias('HELLO_WORLD'))?.id).to.equal(definition.id);
  });

  it("findById('') is INVALID_ARGUMENT; an unknown id is null", async function () {
    await expectError(() => t.store.taskDefinitionFindById(''), 'INVALID_ARGUMENT');
    expect(await t.store.taskDefinitionFindById('0190b6b2-0000-7000-8000-000000000000')).to.equal(null);
    expect(await t.store.taskDefinitionFindById('not-a-uuid')).to.equal(null);
  });

  it('hides soft-deleted rows from find, list and count unless includeSoftDeleted', async function () {
    const live = await t.store.taskDefinitionCreate({ alias: 'Live' });
    const gone = await t.store.taskDefinitionCreate({ alias: 'Gone' });
    await t.store.taskDefinitionSoftDeleteById(gone.id);

    expect(await t.store.taskDefinitionFindById(gone.id)).to.equal(null);
    expect(await t.store.taskDefinitionFindByAlias('Gone')).to.equal(null);
    expect((await t.store.taskDefinitionList()).map((d) => d.id)).to.deep.equal([live.id]);
    expect(await t.store.taskDefinitionCount()).to.equal(1);

    const all = await t.store.taskDefinitionList({ includeSoftDeleted: true });
    expect(all.map((d) => d.id)).to.have.members([live.id, gone.id]);
    expect(await t.store.taskDefinitionCount({ includeSoftDeleted: true })).to.equal(2);
    const deleted = all.find((d) => d.id === gone.id);
    expect(deleted?.softDeletedAt).to.be.instanceOf(Date);
  });

  it('restores a soft-deleted definition', async function () {
    const definition = await t.store.taskDefinitionCreate({ alias: 'Restorable' });
    await t.store.taskDefinitionSoftDeleteById(definition.id);
    await t.store.taskDefinitionRestoreById(definition.id);
    const restored = await t.store.taskDefinitionFindById(definition.id);
    expect(restored?.softDeletedAt).to.equal(null);
    expect((await t.store.taskDefinitionFindByAlias('restorable'))?.id).to.equal(definition.id);
  });

  it('soft delete of an unknown id is NOT_FOUND; a repeat soft delete and restoring a live row are no-ops', async function () {
    await expectError(() => t.store.taskDefinitionSoftDeleteById('0190b6b2-0000-7000-8000-000000000000'), 'NOT_FOUND');
    const definition = await t.store.taskDefinitionCreate({ alias: 'NoOps' });
    await t.store.taskDefinitionRestoreById(definition.id);
    expect((await t.store.taskDefinitionFindById(definition.id))?.softDeletedAt).to.equal(null);

    await t.store.taskDefinitionSoftDeleteById(definition.id);
    const [first] = await t.store.taskDefinitionList({ id: definition.id, includeSoftDeleted: true });
    await clockPast(first!.softDeletedAt!, 5);
    await t.store.taskDefinitionSoftDeleteById(definition.id);
    const [second] = await t.store.taskDefinitionList({ id: definition.id, includeSoftDeleted: true });
    expect(second?.softDeletedAt?.getTime()).to.equal(first?.softDeletedAt?.getTime());
  });

  it('deleteById hard deletes; an unknown id is NOT_FOUND', async function () {
    const definition = await t.store.taskDefinitionCreate({ alias: 'HardDelete' });
    await t.store.taskDefinitionDeleteById(definition.id);
    expect(await t.store.taskDefinitionCount({ includeSoftDeleted: true })).to.equal(0);
    await expectError(() => t.store.taskDefinitionDeleteById(definition.id), 'NOT_FOUND');
  });

  it('deleteById also removes a soft-deleted row', async function () {
    const definition = await t.store.taskDefinitionCreate({ alias: 'SoftThenHard' });
    await t.store.taskDefinitionSoftDeleteById(definition.id);
    await t.store.taskDefinitionDeleteById(definition.id);
    expect(await t.store.taskDefinitionCount({ includeSoftDeleted: true })).to.equal(0);
  });

  it('update returns the updated entity, persists it, and advances updatedAt', async function () {
    const created = await t.store.taskDefinitionCreate({ alias: 'Updatable', title: 'old' });
    await clockPast(created.updatedAt, 5);
    const updated = await t.store.taskDefinitionUpdate({ id: created.id, title: 'new', memo: 'm', status: 'canceled', maxAttempts: 3 });
    expect(updated).to.include({ id: created.id, alias: 'Updatable', title: 'new', memo: 'm', status: 'canceled', maxAttempts: 3 });
    expect(updated.updatedAt.getTime()).to.be.greaterThan(created.updatedAt.getTime());
    expect(updated.createdAt.getTime()).to.equal(created.createdAt.getTime());
    expect(await t.store.taskDefinitionFindById(created.id)).to.deep.equal(updated);
  });

  it('update of an unknown id is NOT_FOUND; a missing id is INVALID_ARGUMENT', async function () {
    await expectError(() => t.store.taskDefinitionUpdate({ id: '0190b6b2-0000-7000-8000-000000000000', title: 'x' }), 'NOT_FOUND');
    await expectError(() => t.store.taskDefinitionUpdate({ id: '', title: 'x' }), 'INVALID_ARGUMENT');
  });

  it('rejects bad create input and writes nothing', async function () {
    await expectError(() => t.store.taskDefinitionCreate({ alias: '' }), 'INVALID_ARGUMENT', 'alias');
    await expectError(() => t.store.taskDefinitionCreate({ alias: '---' }), 'INVALID_ARGUMENT', 'alias');
    await expectError(() => t.store.taskDefinitionCreate({ alias: 'BadStatus', status: 'paused' as never }), 'INVALID_ARGUMENT', 'status');
    await expectError(() => t.store.taskDefinitionCreate({ alias: 'BadAttempts', maxAttempts: 0 }), 'INVALID_ARGUMENT', 'maxAttempts');
    await expectError(() => t.store.taskDefinitionCreate({ alias: 'BadAttempts', maxAttempts: 1.5 }), 'INVALID_ARGUMENT', 'maxAttempts');
    expect(await t.store.taskDefinitionCount({ includeSoftDeleted: true })).to.equal(0);
  });

  describe('list and count', function () {
    const ids: Record<string, string> = {};
    let created: { id: string; createdAt: Date }[] = [];

    beforeEach(async function () {
      created = [];
      for (const [alias, status] of [
        ['Alpha', 'active'],
        ['Bravo', 'canceled'],
        ['Charlie', 'active'],
        ['Delta', 'active'],
        ['Echo', 'canceled'],
      ] as const) {
        const definition = await t.store.taskDefinitionCreate({ alias, status, title: `title ${alias}` });
        ids[alias] = definition.id;
        created.push(definition);
      }
    });

    it('defaults to creation order', async function () {
      expect((await t.store.taskDefinitionList()).map((d) => d.alias)).to.deep.equal(['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo']);
    });

    it('filters by id, ids, alias (normalised), status and statuses', async function () {
      expect((await t.store.taskDefinitionList({ id: ids['Charlie']! })).map((d) => d.alias)).to.deep.equal(['Charlie']);
      expect((await t.store.taskDefinitionList({ ids: [ids['Alpha']!, ids['Echo']!] })).map((d) => d.alias)).to.deep.equal([
        'Alpha',
        'Echo',
      ]);
      expect((await t.store.taskDefinitionList({ alias: 'DELTA' })).map((d) => d.alias)).to.deep.equal(['Delta']);
      expect((await t.store.taskDefinitionList({ status: 'canceled' })).map((d) => d.alias)).to.deep.equal(['Bravo', 'Echo']);
      expect((await t.store.taskDefinitionList({ statuses: ['active'] })).map((d) => d.alias)).to.deep.equal(['Alpha', 'Charlie', 'Delta']);
      expect(await t.store.taskDefinitionCount({ status: 'canceled' })).to.equal(2);
    });

    it('filters by createdFrom / createdTo inclusively', async function () {
      const third = created[2]!;
      expect((await t.store.taskDefinitionList({ createdFrom: third.createdAt })).map((d) => d.id)).to.include(third.id);
      expect((await t.store.taskDefinitionList({ createdTo: third.createdAt })).map((d) => d.id)).to.include(third.id);
      expect((await t.store.taskDefinitionList({ createdFrom: third.createdAt, createdTo: third.createdAt })).map((d) => d.id)).to.include(
        third.id,
      );
      expect(await t.store.taskDefinitionCount({ createdFrom: new Date(Date.now() + 60_000) })).to.equal(0);
      expect(await t.store.taskDefinitionCount({ createdTo: new Date(Date.now() - 3_600_000) })).to.equal(0);
      expect(await t.store.taskDefinitionCount({ createdFrom: created[0]!.createdAt, createdTo: created[4]!.createdAt })).to.equal(5);
    });

    it('pages with limit and offset; count ignores them', async function () {
      expect((await t.store.taskDefinitionList({ limit: 2 })).map((d) => d.alias)).to.deep.equal(['Alpha', 'Bravo']);
      expect((await t.store.taskDefinitionList({ limit: 2, offset: 2 })).map((d) => d.alias)).to.deep.equal(['Charlie', 'Delta']);
      expect((await t.store.taskDefinitionList({ offset: 4 })).map((d) => d.alias)).to.deep.equal(['Echo']);
      expect(await t.store.taskDefinitionCount({ limit: 2, offset: 1 })).to.equal(5);
    });

    it('orders by an allowlisted column in either direction', async function () {
      expect((await t.store.taskDefinitionList({ orderBy: 'alias', sortOrder: 'desc' })).map((d) => d.alias)).to.deep.equal([
        'Echo',
        'Delta',
        'Charlie',
        'Bravo',
        'Alpha',
      ]);
      expect((await t.store.taskDefinitionList({ orderBy: 'createdAt', sortOrder: 'desc' })).map((d) => d.alias)).to.deep.equal([
        'Echo',
        'Delta',
        'Charlie',
        'Bravo',
        'Alpha',
      ]);
      const byStatus = await t.store.taskDefinitionList({ orderBy: 'status', sortOrder: 'asc' });
      expect(byStatus.map((d) => d.status)).to.deep.equal(['active', 'active', 'active', 'canceled', 'canceled']);
    });

    it('treats SQL-looking filter values as plain values', async function () {
      expect(await t.store.taskDefinitionList({ alias: "x' OR '1'='1" })).to.deep.equal([]);
      expect(await t.store.taskDefinitionCount({ alias: "x' OR '1'='1" })).to.equal(0);
      expect(await t.store.taskDefinitionList({ id: "' OR 1=1 --" })).to.deep.equal([]);
      expect(await t.store.taskDefinitionFindByAlias("Alpha'; DROP TABLE task_definition; --")).to.equal(null);
      expect(await t.store.taskDefinitionCount()).to.equal(5);
    });
  });
});
