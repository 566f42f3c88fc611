/**
 * Line-at-a-time writers and relays for the launcher's protocol and the
 * output it relays: whole lines never interleave, whichever process wrote them.
 */
import { readLines } from "../../model/subprocess.ts";

/** Writes whole lines to `out` one after another; a closed `out` (the reader went away) is ignored. */
export function lineWriter(out: { write(p: Uint8Array): Promise<number> }): (line: string) => void {
  const encoder = new TextEncoder();
  let queue = Promise.resolve();
  return (line) => {
    const bytes = encoder.encode(line + "\n");
    queue = queue.then(async () => {
      for (let at = 0; at < bytes.length;) at += await out.write(bytes.subarray(at));
    }).catch(() => {});
  };
}

/** Lines to this process's stdout and stderr. */
export const stdoutLine = lineWriter(Deno.stdout);
export const stderrLine = lineWriter(Deno.stderr);

/** Relays every line of `stream` to `write` with `prefix` in front. */
export async function relayLines(
  stream: ReadableStream<Uint8Array>,
  prefix: string,
  write: (line: string) => void,
): Promise<void> {
  try {
    for await (const line of readLines(stream)) write(prefix + line);
  } catch { /* the stream broke because its process was killed: nothing more to relay */ }
}
