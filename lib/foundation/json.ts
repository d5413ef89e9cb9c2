/**
 * JSON as the types see it: what task parameters may hold (`JsonObject`), and the check
 * behind `defineTask<P>` (`JsonCompatible<P>`), which accepts interfaces as well.
 */
export type JsonPrimitive = string | number | boolean | null;
/** A value that comes back from JSON as it went in. */
export type JsonValue = JsonPrimitive | JsonValue[] | readonly JsonValue[] | JsonObject;
/**
 * A JSON object. A property may be `undefined` (an optional property): JSON drops it, so it
 * reads back as missing, which is still `undefined`. Inside arrays `undefined` is refused
 * (JSON would turn it into null).
 */
export type JsonObject = { [key: string]: JsonValue | undefined };

/**
 * `T` itself when `T` is an object type whose properties are all JSON (interfaces too, which
 * `JsonObject` would refuse for lacking an index signature); otherwise a type `T` does not
 * fit, so `P extends JsonCompatible<P>` refuses functions, Dates, Maps, bigint, unknown and
 * `undefined` inside arrays, down to the nested property that holds one.
 */
export type JsonCompatible<T> = { [K in keyof T]: JsonCompatibleValue<T[K]> };
type JsonCompatibleValue<V> = V extends JsonPrimitive | undefined
  ? V
  : V extends readonly (infer E)[]
    ? V extends unknown[]
      ? JsonArrayElement<E>[]
      : readonly JsonArrayElement<E>[]
    : V extends (...args: never[]) => unknown
      ? never
      : V extends object
        ? JsonCompatible<V>
        : never;
type JsonArrayElement<E> = E extends undefined ? never : JsonCompatibleValue<E>;

/**
 * `T`, but not a place TypeScript infers `T` from (TypeScript 5.4's `NoInfer`, spelt so that
 * TypeScript 5.0 understands it): `store.enqueue(task, params)` takes `P` from the task alone,
 * so params of another shape are an error instead of widening `P`.
 */
export type NoInference<T> = [T][T extends unknown ? 0 : never];
