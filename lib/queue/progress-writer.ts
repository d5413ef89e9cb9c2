/**
 * A running task's progress (ctx.setProgress): checked at once, written through its lease
 * (fenced by the claim token) at most once per interval per task. The first report of a quiet
 * spell is written at once; later ones within the interval wait, and only the latest of them
 * is written when it ends. A report still waiting when the attempt ends is dropped.
 */
import { invalidArgument } from '../foundation/errors.js';
import { encodeJsonValue } from '../foundation/params.js';

/** At most one progress write per task per this many ms. */
export const PROGRESS_INTERVAL_MS = 500;
/** The most `data` may weigh as JSON, in UTF-8 bytes. */
export const MAX_PROGRESS_DATA_BYTES = 8 * 1024;

export interface ProgressValue {
  readonly percent: number;
  /** The JSON text of the data, or null. */
  readonly data: string | null;
}

/** A progress report as stored; INVALID_ARGUMENT for a percent outside 0–100 or data that is not JSON or too large. */
export function checkProgress(percent: unknown, data: unknown, name = 'ctx.setProgress'): ProgressValue {
  if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
    throw invalidArgument(
      `${name}: percent must be a number from 0 to 100 (got ${typeof percent === 'number' ? percent : typeof percent})`,
    );
  }
  return { percent, data: data === undefined ? null : encodeJsonValue(data, `${name}: data`, MAX_PROGRESS_DATA_BYTES) };
}

export class ProgressWriter {
  readonly #write: (value: ProgressValue) => Promise<unknown>;
  readonly #intervalMs: number;
  #pending: ProgressValue | null = null;
  #timer: NodeJS.Timeout | null = null;
  #writing: Promise<unknown> | null = null;
  #lastWriteAt = -Infinity;
  #closed = false;

  /** `write` must not reject (it reports its own failures). */
  constructor(write: (value: ProgressValue) => Promise<unknown>, intervalMs = PROGRESS_INTERVAL_MS) {
    this.#write = write;
    this.#intervalMs = intervalMs;
  }

  set(value: ProgressValue): void {
    if (this.#closed) return;
    this.#pending = value;
    this.#plan();
  }

  /** The attempt ended: a waiting report is dropped, a write in flight lands or not on its own. */
  close(): void {
    this.#closed = true;
    this.#pending = null;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #plan(): void {
    if (this.#timer || this.#writing || !this.#pending || this.#closed) return;
    const wait = this.#lastWriteAt + this.#intervalMs - Date.now();
    if (wait <= 0) {
      this.#flush();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#plan();
    }, wait);
    this.#timer.unref();
  }

  #flush(): void {
    const value = this.#pending;
    if (!value) return;
    this.#pending = null;
    this.#lastWriteAt = Date.now();
    this.#writing = this.#write(value).finally(() => {
      this.#writing = null;
      this.#plan();
    });
  }
}
