import { atomicWriteFile } from "../model/atomic_write.ts";
import type { ManifestFile } from "../model/data/mod.ts";
import type { WordCounts } from "../model/tokenizer/mod.ts";
import type { Extracted } from "./extract_files.ts";
import type { SpillFile } from "./spill_file.ts";

/** A kept document: where its text lies in the spill file and where it goes. */
export interface DocRef {
  /** Index of its entry in the manifest's files. */
  file: number;
  offset: number;
  length: number;
  sha256: string;
  /** Split point, see `splitPoint`. */
  u: number;
}

/** What the first pass gathered: every file's entry and the documents kept. */
export interface Collected {
  files: ManifestFile[];
  docs: DocRef[];
}

/** Where {@linkcode collectDocuments} puts what it keeps. */
export interface CollectSinks {
  spill: SpillFile;
  /** Word counts of train documents, when a tokenizer is trained. */
  words?: WordCounts;
  /** Folder for each kept document's text as `<relative path>.txt`. */
  dumpText?: string;
  /** Called after each file, with its size in bytes. */
  onFile?: (bytes: number) => void;
}

/**
 * Deduplicates extracted files in walk order (the first copy of a text wins, by the sha256 of its
 * cleaned text) and stores each kept document: its text appended to the spill file, its word
 * counts added for tokenizer training, its text dumped when asked. Holds no document text itself.
 */
export async function collectDocuments(
  extracted: AsyncIterable<Extracted>,
  sinks: CollectSinks,
): Promise<Collected> {
  const files: ManifestFile[] = [];
  const docs: DocRef[] = [];
  const seen = new Map<string, string>();
  for await (const { file, doc } of extracted) {
    const entry: ManifestFile = { ...file, characters: doc?.characters ?? 0, tokens: 0 };
    files.push(entry);
    sinks.onFile?.(file.bytes);
    if (!doc || entry.status !== "ok") continue;
    if (doc.characters === 0) {
      Object.assign(entry, { status: "skipped", reason: "no text after cleaning" });
      continue;
    }
    entry.textSha256 = doc.sha256;
    const first = seen.get(doc.sha256);
    if (first !== undefined) {
      Object.assign(entry, { status: "skipped", reason: `duplicate of "${first}"` });
      continue;
    }
    seen.set(doc.sha256, entry.path);
    const offset = await sinks.spill.append(doc.bytes);
    docs.push({
      file: files.length - 1,
      offset,
      length: doc.bytes.length,
      sha256: doc.sha256,
      u: doc.u,
    });
    if (doc.words) sinks.words?.add(doc.words);
    if (sinks.dumpText) {
      const path = `${sinks.dumpText}/${entry.path}.txt`;
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await atomicWriteFile(path, appendNewline(doc.bytes));
    }
  }
  return { files, docs };
}

function appendNewline(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = 0x0a;
  return out;
}
