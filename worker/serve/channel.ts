/** An unbounded single-consumer queue drained by `next()` (the decode loop → one response stream). */
export class Channel<T> {
  readonly #items: T[] = [];
  #waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  #closed = false;
  #error: unknown;

  /** Adds an item; ignored after close. */
  push(item: T): void {
    if (this.#closed) return;
    const w = this.#take();
    if (w) w.resolve({ value: item, done: false });
    else this.#items.push(item);
  }

  /** Ends the stream after the items already queued; with `error`, the consumer gets it thrown. */
  close(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    const w = this.#take();
    if (w && error !== undefined) w.reject(error);
    else if (w) w.resolve({ value: undefined, done: true });
  }

  /** The next item, or done once closed and drained. */
  next(): Promise<IteratorResult<T>> {
    if (this.#items.length) return Promise.resolve({ value: this.#items.shift()!, done: false });
    if (this.#closed) {
      return this.#error !== undefined
        ? Promise.reject(this.#error)
        : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.#waiting = { resolve, reject });
  }

  #take() {
    const w = this.#waiting;
    this.#waiting = undefined;
    return w;
  }
}
