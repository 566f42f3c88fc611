/**
 * Atomic file writes: the bytes go to a temporary file beside the target, are fsynced, and the
 * temporary file is renamed over the target, so readers see the old file or the new one, never a
 * torn one.
 *
 * @example
 * ```ts
 * await atomicWriteFile("runs/a/config.json", new TextEncoder().encode("{}"));
 * ```
 */
export async function atomicWriteFile(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  const file = await Deno.open(tmp, { write: true, createNew: true });
  try {
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } catch (err) {
    file.close();
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  file.close();
  await Deno.rename(tmp, path);
  await syncDirectory(dirname(path));
}

/**
 * Appends UTF-8 text (a JSON line) to `path`, creating it, all or nothing: a write that fails
 * part-way (a full disk) is cut back off, so a retry does not leave half a line in the file.
 */
export async function appendText(path: string, text: string): Promise<void> {
  const file = await Deno.open(path, { append: true, create: true });
  try {
    const before = (await file.stat()).size;
    try {
      const bytes = new TextEncoder().encode(text);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
    } catch (err) {
      await file.truncate(before).catch(() => {});
      throw err;
    }
  } finally {
    file.close();
  }
}

/** Writes UTF-8 text atomically; see {@linkcode atomicWriteFile}. */
export function atomicWriteText(path: string, text: string): Promise<void> {
  return atomicWriteFile(path, new TextEncoder().encode(text));
}

/** Makes a rename inside `dir` durable. Some file systems refuse to open directories; that is fine. */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch {
    // Directory fsync is best effort: not every platform allows it.
  }
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}
