/**
 * Cleaned documents between the two passes of an ingest: the first pass appends each kept
 * document's UTF-8 bytes, the tokenizer is trained, and the second pass reads them back in shard
 * order to encode. Text lives on disk, not in memory, whatever the corpus size.
 */
export class SpillFile {
  readonly path: string;
  #file: Deno.FsFile;
  #size = 0;

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
  }

  /** Creates an empty spill file in `dir` (the output folder, which has room for the shards). */
  static async create(dir: string): Promise<SpillFile> {
    const path = await Deno.makeTempFile({ dir, prefix: ".ingest_text_", suffix: ".tmp" });
    return new SpillFile(path, await Deno.open(path, { write: true }));
  }

  /** Bytes written so far. */
  get size(): number {
    return this.#size;
  }

  /** Appends `bytes`; returns their offset. */
  async append(bytes: Uint8Array): Promise<number> {
    const at = this.#size;
    let written = 0;
    while (written < bytes.length) written += await this.#file.write(bytes.subarray(written));
    this.#size += bytes.length;
    return at;
  }

  /** Closes and deletes the file. */
  async remove(): Promise<void> {
    try {
      this.#file.close();
    } catch {
      // already closed
    }
    await Deno.remove(this.path).catch(() => {});
  }
}

/** Reads `length` bytes at `offset` of an open file. */
export async function readAt(
  file: Deno.FsFile,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < length) {
    const n = await file.read(out.subarray(got));
    if (n === null) throw new RangeError(`Spill file ends before byte ${offset + length}`);
    got += n;
  }
  return out;
}
