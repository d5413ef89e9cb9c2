/**
 * The dashboard's forms on every dialect, driven by real HTTP form posts: a refused schedule
 * or enqueue form comes back as the form (not an error page) with what the user typed and
 * the error beside the field it names, and nothing is written. Also the favicon and the
 * layout's icon link and viewport tag.
 */
import { expect } from 'chai';
import { forEachDialect } from '../support/index.js';
import { DashboardClient, serveDashboard, type TestDashboard } from './admin-helpers.js';

/** The message shown beside `field`, as the page's text (entities decoded), or null. */
function besideField(page: string, field: string): string | null {
  const match = new RegExp(`<span class="field-error" id="${field}-error" data-field-error="${field}">([^<]*)</span>`).exec(page);
  return match
    ? (match[1] ?? '')
        .replace(/&#39;/g, "'")
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&')
    : null;
}

forEachDialect('dashboard forms', (t) => {
  let dashboard: TestDashboard;
  let client: DashboardClient;

  before(async () => {
    dashboard = await serveDashboard(t.store, { basePath: '/admin' });
  });
  after(async () => {
    await dashboard.close();
  });
  beforeEach(async () => {
    await t.store.taskDefinitionCreate({ alias: 'FormEcho' });
    client = new DashboardClient(dashboard.url);
    await client.csrf();
  });

  async function postSchedule(fields: Record<string, string>): Promise<{ status: number; type: string; page: string }> {
    const response = await client.form('/schedules', { _csrf: client.token, alias: 'FormEcho', queue: 'nightly-q', ...fields });
    return { status: response.status, type: response.headers.get('content-type') ?? '', page: await response.text() };
  }

  function expectScheduleForm(page: string): void {
    expect(page).to.include('<form method="post" action="/admin/schedules" class="form-grid" id="schedule-create">');
    expect(page).to.include('<h1>Schedules</h1>');
    expect(page).not.to.include('Error 400');
    expect(page, 'no read-only badge on a writable dashboard').not.to.include('badge-readonly');
    expect(page).to.include('role="alert"');
  }

  it('a bad cron: 400 with the form, the input kept, the error beside the cron field, nothing created', async () => {
    const { status, type, page } = await postSchedule({ name: 'nightly report', cron: '61 * * *', params: '{"to": "ops@example.com"}' });
    expect(status).to.equal(400);
    expect(type).to.match(/^text\/html/);
    expectScheduleForm(page);
    expect(besideField(page, 'cron')).to.match(/^cron must have 5 fields .*got 4 fields: '61 \* \* \*'/);
    expect(page).to.match(/<input name="cron"[^>]* value="61 \* \* \*" aria-invalid="true"/);
    expect(page).to.match(/<input name="name"[^>]* value="nightly report"/);
    expect(page).to.match(/<input name="queue" value="nightly-q"/);
    expect(page).to.include('>{&quot;to&quot;: &quot;ops@example.com&quot;}</textarea>');
    expect(page).to.include('<option value="FormEcho" selected>');
    expect(await t.store.scheduleList({ includeSoftDeleted: true })).to.deep.equal([]);
  });

  it('bad JSON parameters: 400 with the form, the text kept, the error beside the parameters, nothing created', async () => {
    const { status, page } = await postSchedule({ name: 'every-minute', frequency: 'minutely', interval: '2', params: '{"a": 1,' });
    expect(status).to.equal(400);
    expectScheduleForm(page);
    expect(besideField(page, 'params')).to.match(/^params is not valid JSON/);
    expect(besideField(page, 'cron')).to.equal(null);
    expect(page).to.include('aria-invalid="true" aria-describedby="params-error">{&quot;a&quot;: 1,</textarea>');
    expect(page).to.include('<option value="minutely" selected>');
    expect(page).to.match(/<input name="interval"[^>]* value="2"/);
    expect(await t.store.scheduleList({ includeSoftDeleted: true })).to.deep.equal([]);
  });

  it("the store's own refusals name their field too (a time zone, frequency none without a start); one naming no field goes on top", async () => {
    const zone = await postSchedule({ name: 'zoned', cron: '0 9 * * *', timezone: 'Mars/Olympus' });
    expect(zone.status).to.equal(400);
    expect(besideField(zone.page, 'timezone')).to.match(/^timezone must be an IANA time zone/);
    expect(zone.page).to.match(/<input name="timezone" value="Mars\/Olympus"/);
    const once = await postSchedule({ name: 'once', frequency: 'none' });
    expect(once.status).to.equal(400);
    expect(besideField(once.page, 'startsAt')).to.match(/startsAt is required/);
    const unknown = await postSchedule({ name: 'orphan', alias: 'NoSuchAlias', cron: '0 9 * * *' });
    expect(unknown.status).to.equal(422);
    expect(besideField(unknown.page, 'alias')).to.match(/no task definition with alias 'NoSuchAlias'/);
    const missing = await postSchedule({ name: 'no timing' });
    expect(missing.status).to.equal(400);
    expect(besideField(missing.page, 'cron')).to.equal('give a cron expression or a frequency');
    expect(await t.store.scheduleList({ includeSoftDeleted: true })).to.deep.equal([]);
    const good = await postSchedule({ name: 'fine', cron: '0 9 * * *' });
    expect(good.status).to.equal(303);
  });

  it('a refused enqueue form comes back with its input and the error beside the field; nothing is enqueued', async () => {
    const definition = (await t.store.taskDefinitionList({ alias: 'FormEcho' }))[0]!;
    const post = async (fields: Record<string, string>) => {
      const response = await client.form(`/definitions/${definition.id}/enqueue`, { _csrf: client.token, queue: 'mail', ...fields });
      return { status: response.status, page: await response.text() };
    };
    const json = await post({ params: '{nope}', priority: '7' });
    expect(json.status).to.equal(400);
    expect(json.page).to.include('id="enqueue-form"');
    expect(besideField(json.page, 'params')).to.match(/^params is not valid JSON/);
    expect(json.page).to.match(/<input name="priority" type="number" value="7"/);
    expect(json.page).to.include('>{nope}</textarea>');
    const delay = await post({ delay: 'soon' });
    expect(delay.status).to.equal(400);
    expect(besideField(delay.page, 'delay')).to.match(/^delay: 'soon' is not a duration/);
    await t.store.taskDefinitionUpdate({ id: definition.id, status: 'canceled' });
    const canceled = await post({ params: '{"n": 1}' });
    expect(canceled.status).to.equal(409);
    expect(canceled.page).to.include('Nothing was enqueued: task definition &#39;FormEcho&#39; is canceled; activate it to enqueue</p>');
    expect(canceled.page).not.to.include('class="field-error"');
    expect(await t.store.taskQueueList({ includeSoftDeleted: true })).to.deep.equal([]);
  });

  it('an error page of a writable dashboard shows no read-only badge (a duplicate alias: 409)', async () => {
    const response = await client.form('/definitions', { _csrf: client.token, alias: 'FormEcho' });
    expect(response.status).to.equal(409);
    const page = await response.text();
    expect(page).to.include('<h1>Error 409</h1>');
    expect(page).not.to.include('badge-readonly');
  });

  it('serves the favicon as SVG; every page links it and has the viewport tag', async () => {
    const icon = await client.get('/favicon.svg');
    expect(icon.status).to.equal(200);
    expect(icon.headers.get('content-type')).to.equal('image/svg+xml');
    expect(await icon.text()).to.match(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const path of ['/', '/tasks', '/definitions', '/schedules']) {
      const page = await (await client.get(path)).text();
      expect(page, path).to.include('<link rel="icon" type="image/svg+xml" href="/admin/favicon.svg">');
      expect(page, path).to.include('<meta name="viewport" content="width=device-width, initial-scale=1">');
    }
  });
});
