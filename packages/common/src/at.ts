/**
 * A broken invariant: an index or key the code proved present (by a loop bound, a length check, its
 * construction) was not. Always a bug in Loom, never bad input; input is validated with its own errors.
 */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/**
 * `arr[i]` where `i` is in range by construction (noUncheckedIndexedAccess types it `T | undefined`);
 * throws InvariantError instead of letting `undefined` flow on. Small enough for V8 to inline in loops.
 */
export function at<T>(arr: ArrayLike<T>, i: number): T {
  const v = arr[i];
  if (v === undefined) throw new InvariantError(`index ${i} is outside [0, ${arr.length})`);
  return v;
}

/** `record[key]` for a key that is present by construction; throws InvariantError otherwise. */
export function entry<V>(record: Readonly<Record<string, V>>, key: string): V {
  const v = record[key];
  if (v === undefined) throw new InvariantError(`no entry '${key}'`);
  return v;
}
