/**
 * Size limits of what a task carries: its parameters, its output and its details log, in
 * UTF-8 bytes. Checked before anything is written, so an oversized value is an
 * INVALID_ARGUMENT and never a statement the database refuses (or, on MySQL, a packet over
 * max_allowed_packet).
 */
import { invalidArgument } from './errors.js';
import { cutToBytes, fitsBytes, formatBytes, storableText, utf8Bytes } from './text.js';

export interface PayloadLimits {
  /** The most bytes of a task's or schedule's parameters, as JSON. */
  readonly maxParametersBytes: number;
  /** The most bytes of a task's output. */
  readonly maxOutputBytes: number;
  /** The most bytes of details a caller writes, and of log lines a handler adds to a task. */
  readonly maxDetailsBytes: number;
}

const MIB = 1024 * 1024;

/** Well inside MariaDB's default max_allowed_packet (16 MiB) together, and any column's size. */
export const DEFAULT_PAYLOAD_LIMITS: PayloadLimits = Object.freeze({
  maxParametersBytes: MIB,
  maxOutputBytes: MIB,
  maxDetailsBytes: MIB,
});

/** The range each limit may be set to: from 1 KiB to 256 MiB. */
export const PAYLOAD_LIMIT_RANGE = Object.freeze({ min: 1024, max: 256 * MIB });

/** The longest single details line (a log line, or a failure with its stack frames); longer ones are cut. */
export const MAX_DETAILS_LINE_BYTES = 16 * 1024;

/** Rejects `text` (already storable) over `maxBytes`, naming the option that sets the limit. */
export function assertWithinBytes(text: string, maxBytes: number, name: string, option: keyof PayloadLimits): void {
  if (fitsBytes(text, maxBytes)) return;
  throw invalidArgument(`${name} is ${formatBytes(utf8Bytes(text))} bytes; the limit is ${formatBytes(maxBytes)} (${option})`);
}

/** Free text as it will be stored (see storableText), rejected when over `maxBytes`; undefined stays undefined. */
export function storableWithin(text: string | undefined, maxBytes: number, name: string, option: keyof PayloadLimits): string | undefined {
  if (text === undefined) return undefined;
  const stored = storableText(text);
  assertWithinBytes(stored, maxBytes, name, option);
  return stored;
}

/** A details line cut to MAX_DETAILS_LINE_BYTES, marked where it was cut. */
export function boundedLine(line: string): string {
  return cutToBytes(line, MAX_DETAILS_LINE_BYTES, (bytes) => ` … [line cut: ${formatBytes(bytes)} bytes in all]`);
}

/** A handler's output cut to `maxBytes`, and the details line that says so (null when it fit). */
export function boundedOutput(output: string, maxBytes: number): { output: string; note: string | null } {
  if (fitsBytes(output, maxBytes)) return { output, note: null };
  const bytes = utf8Bytes(output);
  const cut = cutToBytes(output, maxBytes, () => ` … [output cut: ${formatBytes(bytes)} bytes in all]`);
  return { output: cut, note: `Output cut to ${formatBytes(maxBytes)} of ${formatBytes(bytes)} bytes (maxOutputBytes)` };
}

/** The most text one row may carry: the three limits together. */
export const rowTextBytes = (limits: PayloadLimits): number => limits.maxParametersBytes + limits.maxOutputBytes + limits.maxDetailsBytes;

/** Room for a statement's SQL, ids, claim tokens and taskstore's own details lines, beside the text it carries. */
export const STATEMENT_OVERHEAD_BYTES = 256 * 1024;

/**
 * Rejects limits a server's statement size (MySQL's max_allowed_packet) cannot hold: a row
 * with every value at its limit, escaped (which at most doubles it), with room to spare.
 */
export function assertLimitsFit(limits: PayloadLimits, maxStatementBytes: number | null): void {
  if (maxStatementBytes === null) return;
  const needed = 2 * rowTextBytes(limits) + STATEMENT_OVERHEAD_BYTES;
  if (needed <= maxStatementBytes) return;
  throw invalidArgument(
    `maxParametersBytes + maxOutputBytes + maxDetailsBytes (${formatBytes(rowTextBytes(limits))}) must fit twice, with ` +
      `${formatBytes(STATEMENT_OVERHEAD_BYTES)} to spare, in the server's max_allowed_packet (${formatBytes(maxStatementBytes)} bytes): ` +
      'lower them, or raise max_allowed_packet',
  );
}

/** `rows` in chunks of at most `maxRows` rows and `maxBytes` of text (a larger row goes alone). */
export function chunkByText<T>(rows: readonly T[], maxRows: number, maxBytes: number, textOf: (row: T) => string): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = utf8Bytes(textOf(row));
    if (chunk.length > 0 && (chunk.length >= maxRows || bytes + size > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(row);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
