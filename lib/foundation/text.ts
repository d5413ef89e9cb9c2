/**
 * Text as every database stores it alike. PostgreSQL refuses U+0000 in text, and a lone
 * surrogate (half of a UTF-16 pair) has no UTF-8 form: each driver turns it into something
 * else (one U+FFFD, or three). So free text (output, details, descriptions) has both
 * replaced by U+FFFD before it is written, on every dialect, and names and keys (queue names,
 * aliases, unique keys, schedule names) must not contain them at all.
 */
import { invalidArgument } from './errors.js';

export const REPLACEMENT_CHARACTER = '\uFFFD';

/** Node 20 has these (ES2024); the compiler's lib stops at ES2023. */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

// eslint-disable-next-line no-control-regex -- U+0000 is exactly what it looks for
const UNSTORABLE = /[\u0000\uD800-\uDFFF]/;

/** Free text as it is stored: U+0000 and lone surrogates replaced by U+FFFD, the rest unchanged. */
export function storableText(text: string): string {
  if (!UNSTORABLE.test(text)) return text;
  return (text as unknown as WellFormedString).toWellFormed().replaceAll('\u0000', REPLACEMENT_CHARACTER);
}

/** Whether `text` can be stored unchanged: no U+0000 and no lone surrogate. */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text) || (!text.includes('\u0000') && (text as unknown as WellFormedString).isWellFormed());
}

/** A name or key must be stored exactly as given: U+0000 and lone surrogates are refused. */
export function assertStorableKey(value: string, name: string): void {
  if (isStorableText(value)) return;
  const what = value.includes('\u0000') ? 'U+0000 (NUL)' : 'a lone surrogate (half of a UTF-16 pair)';
  throw invalidArgument(`${name} must not contain ${what}`);
}

/** The size of `text` in UTF-8 bytes, as the databases count it. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Whether `text` fits in `maxBytes` UTF-8 bytes (no count when it plainly does: at most 3 bytes per UTF-16 unit). */
export function fitsBytes(text: string, maxBytes: number): boolean {
  return text.length * 3 <= maxBytes || Buffer.byteLength(text, 'utf8') <= maxBytes;
}

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes, ending with `marker` when cut. The cut falls
 * on a character boundary (never inside a surrogate pair). `text` must be storable.
 */
export function cutToBytes(text: string, maxBytes: number, marker: (bytes: number) => string): string {
  if (fitsBytes(text, maxBytes)) return text;
  const bytes = Buffer.from(text, 'utf8');
  const suffix = marker(bytes.length);
  let end = Math.max(0, maxBytes - Buffer.byteLength(suffix, 'utf8'));
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--; // back to the start of a character
  return `${bytes.subarray(0, end).toString('utf8')}${suffix}`;
}

/** A byte count for messages: 1048576 → '1,048,576'. */
export const formatBytes = (bytes: number): string => bytes.toLocaleString('en-US');

/** The escape character of every LIKE pattern taskstore builds: not a backslash, which MySQL strings and PostgreSQL treat apart. */
export const LIKE_ESCAPE = '!';

/** `text` as a LIKE pattern that matches it literally (its `%`, `_` and `!` escaped), for `LIKE ? ESCAPE '!'`. */
export function likeLiteral(text: string): string {
  return text.replace(/[!%_]/g, (c) => `${LIKE_ESCAPE}${c}`);
}
