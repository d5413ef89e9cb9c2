/**
 * The 'Task failed: …' details line names where the handler's own code failed: the frames
 * of Node's internals (`node:internal/…`, `processTicksAndRejections`) and of taskstore are
 * left out, so the first frame shown is the handler's.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { defineTask } from '../../lib/index.js';
import { detailMessages, forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';

const THIS_FILE = fileURLToPath(import.meta.url);

/** Throws from inside Node (`new URL` at node:internal/url), one frame below this function. */
function parseCallbackUrlInSpec(text: string): URL {
  return new URL(text);
}

/** Rejects from inside Node's fs promises, whose async frames come first. */
async function readSettingsInSpec(): Promise<string> {
  const text = await readFile('/nonexistent/taskstore-spec/settings.json', 'utf8');
  return text;
}

/** The frames of a 'Task failed: <message> (at … | at …)' line. */
function framesOf(details: string): string[] {
  const line = detailMessages(details).find((message) => message.startsWith('Task failed: '));
  expect(line, details).to.be.a('string');
  const frames = /\((at .*)\)$/.exec(line!)?.[1];
  expect(frames, line).to.be.a('string');
  return frames!.split(' | ');
}

forEachDialect('failure details', (t) => {
  async function failureDetails(handle: () => Promise<void>): Promise<string> {
    const alias = uniqueAlias('Frames');
    const queue = uniqueQueue();
    await t.store.taskHandlerAdd(defineTask({ alias, maxAttempts: 1, handle }), true);
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const done = await t.store.taskQueueProcessNext(queue);
    expect(done?.status).to.equal('failed');
    return done!.details;
  }

  it("names the handler's function first when Node's own code threw the error", async () => {
    const frames = framesOf(
      await failureDetails(async () => {
        parseCallbackUrlInSpec('not a url');
      }),
    );
    expect(frames[0]).to.match(/^at parseCallbackUrlInSpec \(/);
    expect(frames[0]).to.include(THIS_FILE);
    for (const frame of frames) expect(frame).to.not.match(/node:internal|processTicksAndRejections/);
  });

  it("names the handler's async function first when Node's async frames come before it", async () => {
    const frames = framesOf(
      await failureDetails(async () => {
        await readSettingsInSpec();
      }),
    );
    expect(frames[0]).to.match(/^at async readSettingsInSpec \(/);
    expect(frames[0]).to.include(THIS_FILE);
    for (const frame of frames) expect(frame).to.not.match(/node:internal|processTicksAndRejections/);
  });
});
