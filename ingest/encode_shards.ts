import type { ManifestFile, ManifestShard, ShardDtype } from "../model/data/mod.ts";
import type { Split } from "./assign_splits.ts";
import type { DocRef } from "./collect_documents.ts";
import { orderedWindow } from "./ordered_window.ts";
import { ShardWriter } from "./shard_writer.ts";
import { WorkerPool } from "./worker_pool.ts";

/** Text per encode task: large enough to amortise the message, small enough to spread the work. */
const BATCH_BYTES = 1 << 20;

/** Where {@linkcode encodeShards} reads and writes. */
export interface EncodeTarget {
  /** Encoding threads; one per core by default. */
  workers?: number;
  spill: string;
  /** `tokenizer.json` the workers load. */
  tokenizer: string;
  dtype: ShardDtype;
  out: string;
  shardTokens: number;
  /** Called after each batch with the bytes of text it held. */
  onBatch?: (bytes: number) => void;
}

/**
 * The encode stage: each split's documents, in the given order, read back from the spill file and
 * encoded on worker threads (a few batches ahead), then written as shards as they fill. Sets
 * each document's token count on its manifest entry.
 */
export async function encodeShards(
  order: Record<Split, DocRef[]>,
  files: ManifestFile[],
  target: EncodeTarget,
): Promise<{ shards: ManifestShard[]; totals: Record<Split, number> }> {
  const pool = new WorkerPool({ size: target.workers });
  try {
    return await encodeSplits(order, files, target, pool);
  } finally {
    pool.close();
  }
}

async function encodeSplits(
  order: Record<Split, DocRef[]>,
  files: ManifestFile[],
  target: EncodeTarget,
  pool: WorkerPool,
): Promise<{ shards: ManifestShard[]; totals: Record<Split, number> }> {
  const shards: ManifestShard[] = [];
  const totals = { train: 0, val: 0 };
  for (const split of ["train", "val"] as const) {
    const writer = new ShardWriter(target.out, split, target.dtype, target.shardTokens);
    const batches = batch(order[split]);
    const run = (i: number) =>
      pool.run({
        type: "encode",
        spill: target.spill,
        tokenizer: target.tokenizer,
        dtype: target.dtype,
        ranges: batches[i].map((d) => [d.offset, d.length]),
      }, i);
    let i = 0;
    for await (
      const { tokens, lengths } of orderedWindow(batches.length, run, {
        window: 2 * pool.size,
      })
    ) {
      batches[i].forEach((d, k) => (files[d.file].tokens = lengths[k]));
      await writer.append(tokens);
      target.onBatch?.(batches[i++].reduce((n, d) => n + d.length, 0));
    }
    shards.push(...await writer.finish());
    totals[split] = writer.tokens;
  }
  return { shards, totals };
}

function batch(docs: readonly DocRef[]): DocRef[][] {
  const out: DocRef[][] = [];
  let bytes = Infinity;
  for (const d of docs) {
    if (bytes + d.length > BATCH_BYTES) {
      out.push([]);
      bytes = 0;
    }
    out[out.length - 1].push(d);
    bytes += d.length;
  }
  return out;
}
