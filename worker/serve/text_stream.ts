/**
 * Turns a generation's bytes into text that can be streamed: always valid UTF-8 (a character whose
 * bytes span several tokens waits until it is complete; bytes that can never form one become
 * U+FFFD), and never any part of a stop sequence (text that could begin one is held back until the
 * next tokens decide; a stop sequence that appears ends the stream before it).
 *
 * @example
 * ```ts
 * const s = new TextStream(["\n\n"]);
 * s.push(new TextEncoder().encode("Hi\n")); // { text: "Hi", stopped: false } ("\n" held back)
 * s.push(new TextEncoder().encode("\nmore")); // { text: "", stopped: true }
 * ```
 */
export class TextStream {
  readonly #stops: readonly string[];
  readonly #decoder = new TextDecoder("utf-8", { fatal: false });
  #held = "";
  #stopped = false;

  /** `stops` must be non-empty, well-formed strings. */
  constructor(stops: readonly string[] = []) {
    this.#stops = stops;
  }

  /** Whether a stop sequence has been seen. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Adds a token's bytes; returns the text that is now safe to send. */
  push(bytes: Uint8Array): { text: string; stopped: boolean } {
    if (this.#stopped) return { text: "", stopped: true };
    return this.#release(this.#held + this.#decoder.decode(bytes, { stream: true }), false);
  }

  /** Ends the stream: returns everything still held (an unfinished character becomes U+FFFD). */
  end(): string {
    if (this.#stopped) return "";
    return this.#release(this.#held + this.#decoder.decode(), true).text;
  }

  #release(text: string, final: boolean): { text: string; stopped: boolean } {
    let cut = -1;
    for (const stop of this.#stops) {
      const at = text.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.#stopped = true;
      this.#held = "";
      return { text: text.slice(0, cut), stopped: true };
    }
    const hold = final ? 0 : this.#partialStop(text);
    this.#held = text.slice(text.length - hold);
    return { text: text.slice(0, text.length - hold), stopped: false };
  }

  /** Length of the longest suffix of `text` that begins some stop sequence. */
  #partialStop(text: string): number {
    for (let k = Math.min(text.length, this.#longest() - 1); k > 0; k--) {
      const tail = text.slice(text.length - k);
      if (this.#stops.some((s) => s.startsWith(tail))) return k;
    }
    return 0;
  }

  #longest(): number {
    return this.#stops.reduce((m, s) => Math.max(m, s.length), 0);
  }
}
