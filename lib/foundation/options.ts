/**
 * The one options pattern: every options object (store, runners, dashboard) is checked for
 * shape and unknown keys, merged over frozen defaults, then validated and frozen by its own
 * resolver. The known keys come from the options type (`satisfies KnownKeys<XOptions>`), so a
 * new option cannot be forgotten in the list.
 */
import { assertKnownKeys, assertPlainObject } from './validate.js';

/** Every key of an options type, each once: `{ a: true, b: true } satisfies KnownKeys<{ a?: 1; b?: 2 }>`. */
export type KnownKeys<O> = Readonly<Record<keyof O, true>>;

/** The options with each defaulted key present (undefined counts as absent). */
export type WithDefaults<O, D> = Omit<O, keyof D> & { readonly [K in keyof D]: K extends keyof O ? Exclude<O[K], undefined> : D[K] };

/**
 * Checks that `options` is a plain object (undefined counts as {}) with only known keys, and
 * returns its defined values over `defaults`. Values are not validated here.
 */
export function withDefaults<O extends object, D extends { readonly [K in keyof O]?: unknown }>(
  options: O | undefined,
  known: KnownKeys<O>,
  defaults: D,
  name: string,
): WithDefaults<O, D> {
  if (options === undefined) return { ...defaults } as unknown as WithDefaults<O, D>;
  assertPlainObject(options, name);
  assertKnownKeys(options, Object.keys(known), name);
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  return { ...defaults, ...defined } as unknown as WithDefaults<O, D>;
}
