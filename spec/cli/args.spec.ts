/** The CLI's parse helpers: durations, key=value parameters, `run` arguments, statuses. */
import { expect } from 'chai';
import { parseDuration, parseKeyValues, parseRunArguments, parseStatuses, UsageError } from '../../lib/cli/args.js';
import { allowedHostsFrom } from '../../lib/cli/dashboard-server.js';
import { formatTable } from '../../lib/cli/output.js';
import { ProgressLine } from '../../lib/cli/progress.js';
import { Writable } from 'node:stream';

describe('CLI parse helpers', () => {
  it('parses durations with units, combined units and bare seconds; rejects the rest', () => {
    expect(parseDuration('500ms', 'x')).to.equal(500);
    expect(parseDuration('30s', 'x')).to.equal(30_000);
    expect(parseDuration('5m', 'x')).to.equal(300_000);
    expect(parseDuration('1h30m', 'x')).to.equal(5_400_000);
    expect(parseDuration('7d', 'x')).to.equal(604_800_000);
    expect(parseDuration('1.5', 'x')).to.equal(1500);
    for (const bad of ['', 'soon', '5 m', '5x', 'm5', '-1s'])
      expect(() => parseDuration(bad, '--delay'), bad).to.throw(UsageError, /--delay/);
  });

  it('keeps everything after the first = in key=value pairs', () => {
    expect(parseKeyValues(['a=1', 'url=x?y=z', 'empty='], '--param')).to.deep.equal({ a: '1', url: 'x?y=z', empty: '' });
    expect(() => parseKeyValues(['novalue'], '--param')).to.throw(UsageError, /key=value/);
    expect(() => parseKeyValues(['=v'], '--param')).to.throw(UsageError);
  });

  it('splits run arguments into the alias, parameters and its own options', () => {
    const parsed = parseRunArguments(['Alias', '--key=a=b', '--name', 'Tom', '--flag', '--database=sqlite:x', '--', '--handlers=p'], {
      database: 'string',
      handlers: 'string',
      help: 'boolean',
    });
    expect(parsed.positionals).to.deep.equal(['Alias']);
    expect(parsed.params).to.deep.equal({ key: 'a=b', name: 'Tom', flag: 'true', handlers: 'p' });
    expect(parsed.options).to.deep.equal({ database: 'sqlite:x' });
    expect(() => parseRunArguments(['A', '--database'], { database: 'string' })).to.throw(UsageError, /needs a value/);
    expect(() => parseRunArguments(['A', '-x'], {})).to.throw(UsageError, /unknown option/);
  });

  it('checks statuses, comma-separated or repeated', () => {
    expect(parseStatuses(['failed,canceled', 'failed'])).to.deep.equal(['failed', 'canceled']);
    expect(() => parseStatuses(['done'])).to.throw(UsageError, /unknown status 'done'/);
  });

  it('dashboard hosts: --allowed-host names, plus a specific --host; * means any', () => {
    expect(allowedHostsFrom('127.0.0.1', [])).to.deep.equal(['127.0.0.1']);
    expect(allowedHostsFrom('192.168.1.5', ['tasks.lan'])).to.deep.equal(['tasks.lan', '192.168.1.5']);
    expect(allowedHostsFrom('myhost.lan', [])).to.deep.equal(['myhost.lan']);
    expect(allowedHostsFrom('0.0.0.0', ['tasks.lan'])).to.deep.equal(['tasks.lan']);
    expect(allowedHostsFrom('::', [])).to.deep.equal([]);
    expect(allowedHostsFrom('0.0.0.0', ['tasks.lan', '*'])).to.equal(true);
    for (const bad of ['tasks.lan:80', 'http://tasks.lan', ''])
      expect(() => allowedHostsFrom('127.0.0.1', [bad]), bad).to.throw(UsageError, /--allowed-host/);
  });

  it('aligns table columns', () => {
    expect(
      formatTable(
        ['A', 'BB'],
        [
          ['long', 'x'],
          ['s', 'yy'],
        ],
      ),
    ).to.equal('A     BB\nlong  x\ns     yy');
  });

  it('progress: one line per finished task when not live; counts and a rate', () => {
    let written = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        written += String(chunk);
        done();
      },
    });
    const progress = new ProgressLine(sink, false);
    progress.record({ kind: 'success', id: 'id1', alias: 'A', queueName: 'q', attempt: 1 });
    progress.record({ kind: 'retry', id: 'id2', alias: 'B', queueName: 'q', attempt: 1, message: 'line1\nline2' });
    progress.record({ kind: 'failure', id: 'id2', alias: 'B', queueName: 'q', attempt: 2, message: 'boom' });
    const lines = written.trim().split('\n');
    expect(lines).to.have.length(3);
    expect(lines[1]).to.match(/retry\s+B\s+id2\s+queue=q attempt=1: line1 line2$/);
    expect(progress.counts).to.include({ succeeded: 1, failed: 1, retried: 1 });
    expect(progress.rate()).to.equal(0.2);
    expect(progress.text()).to.match(/succeeded 1 · failed 1 · retried 1 · 0\.2\/s$/);
  });
});
