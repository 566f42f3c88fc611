/** Limits for {@linkcode orderedWindow}. */
export interface WindowLimits {
  /** Most calls pending at once. */
  window: number;
  /** Size of item `i`, counted against `maxBytes` while it is pending. */
  bytesOf?: (i: number) => number;
  /** Most bytes pending at once; one item is always let through. */
  maxBytes?: number;
}

/**
 * Calls `start(0)`, `start(1)`… with a bounded number (and size) pending, and yields their results
 * in index order: work runs ahead in parallel while whoever consumes the results sees them in a
 * fixed order and holds only the window in memory.
 *
 * @example
 * ```ts
 * for await (const text of orderedWindow(paths.length, (i) => Deno.readTextFile(paths[i]), { window: 4 })) {
 *   console.log(text.length);
 * }
 * ```
 */
export async function* orderedWindow<T>(
  count: number,
  start: (i: number) => Promise<T>,
  limits: WindowLimits,
): AsyncGenerator<T> {
  const bytesOf = limits.bytesOf ?? (() => 0);
  const maxBytes = limits.maxBytes ?? Infinity;
  const pending: { result: Promise<T>; bytes: number }[] = [];
  let next = 0, held = 0;
  const admit = () => {
    while (next < count && pending.length < limits.window) {
      const bytes = bytesOf(next);
      if (pending.length > 0 && held + bytes > maxBytes) return;
      const result = start(next++);
      result.catch(() => {}); // awaited in order below; not unhandled meanwhile
      pending.push({ result, bytes });
      held += bytes;
    }
  };
  admit();
  while (pending.length > 0) {
    const head = pending.shift()!;
    const value = await head.result;
    held -= head.bytes;
    admit();
    yield value;
  }
}
