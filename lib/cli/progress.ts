/**
 * The live progress line of `work` and `demo`: counts of what this process finished, what is
 * waiting, and the rate over the last seconds, redrawn in place when stdout is a terminal.
 * Elsewhere (pipes, CI, log files) each finished task is printed as a line of its own.
 */
import type { Writable } from 'node:stream';
import { formatDate, oneLine } from './output.js';

export interface ProgressCounts {
  succeeded: number;
  failed: number;
  retried: number;
  running: number;
  /** Queued and due or delayed, from the database; null until first read. */
  queued: number | null;
}

export type TaskEventKind = 'success' | 'failure' | 'retry';

export interface ProgressEvent {
  kind: TaskEventKind;
  id: string;
  alias: string;
  queueName: string;
  attempt: number;
  message?: string;
}

/** Rate window: finished tasks over the last this many milliseconds. */
const RATE_WINDOW_MS = 10_000;

export class ProgressLine {
  readonly counts: ProgressCounts = { succeeded: 0, failed: 0, retried: 0, running: 0, queued: null };
  readonly #stream: Writable & { isTTY?: boolean; columns?: number };
  readonly #live: boolean;
  readonly #finishedAt: number[] = [];
  #timer: NodeJS.Timeout | null = null;
  #drawn = false;

  /** `live`: redraw in place (default: when the stream is a TTY). */
  constructor(stream: Writable & { isTTY?: boolean; columns?: number }, live = stream.isTTY === true) {
    this.#stream = stream;
    this.#live = live;
  }

  get live(): boolean {
    return this.#live;
  }

  start(): void {
    if (!this.#live || this.#timer) return;
    this.#timer = setInterval(() => this.render(), 250);
    this.#timer.unref();
  }

  /** A task finished (or will be retried): counted, and printed as a line when not live. */
  record(event: ProgressEvent): void {
    if (event.kind === 'success') this.counts.succeeded += 1;
    else if (event.kind === 'failure') this.counts.failed += 1;
    else this.counts.retried += 1;
    if (event.kind !== 'retry') this.#finishedAt.push(Date.now());
    if (!this.#live) {
      const note = event.message ? `: ${oneLine(event.message, 120)}` : '';
      this.#stream.write(
        `${formatDate(new Date())}  ${event.kind.padEnd(7)}  ${event.alias}  ${event.id}  queue=${event.queueName} attempt=${event.attempt}${note}\n`,
      );
    }
  }

  /** A message that must not be overwritten by the live line. */
  print(text: string): void {
    this.#clear();
    this.#stream.write(`${text}\n`);
    if (this.#live) this.render();
  }

  /** Finished tasks per second over the last ten seconds. */
  rate(now = Date.now()): number {
    while (this.#finishedAt.length > 0 && (this.#finishedAt[0] as number) < now - RATE_WINDOW_MS) this.#finishedAt.shift();
    return this.#finishedAt.length / (RATE_WINDOW_MS / 1000);
  }

  text(): string {
    const { succeeded, failed, retried, running, queued } = this.counts;
    return `queued ${queued ?? '?'} · running ${running} · succeeded ${succeeded} · failed ${failed} · retried ${retried} · ${this.rate().toFixed(1)}/s`;
  }

  render(): void {
    if (!this.#live) return;
    const columns = this.#stream.columns;
    const width = columns !== undefined && columns > 20 ? columns - 1 : 200;
    this.#stream.write(`\r\x1b[2K${this.text().slice(0, width)}`);
    this.#drawn = true;
  }

  /** Stops redrawing and leaves the last line on screen. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#live) {
      this.render();
      this.#stream.write('\n');
      this.#drawn = false;
    }
  }

  #clear(): void {
    if (this.#live && this.#drawn) this.#stream.write('\r\x1b[2K');
    this.#drawn = false;
  }
}
