/**
 * A worker's training data: the job's shards and tokenizer, fetched from the coordinator (no
 * shared file system), verified against the manifest's sha256 and cached between runs.
 */
import { decodeTrainingState } from "../../model/checkpoint/mod.ts";
import { concatTokens, type Manifest, tokensFromBytes } from "../../model/data/mod.ts";
import { ChecksumError } from "../../model/errors.ts";
import type { Logger } from "../../model/log.ts";
import { sha256Hex } from "../../model/sha256.ts";
import { type JobConfig, jobModel, Trainer } from "../../model/train/mod.ts";
import { atomicWriteFile } from "../../model/atomic_write.ts";
import { sharedFloat16Array, sharedFloat32Array } from "../collective/mod.ts";
import type { CoordinatorClient } from "./coordinator_client.ts";

/** Where a worker keeps its data and runs its trainer. */
export interface WorkerPlace {
  /** Where verified shards are cached between runs. */
  cacheDir: string;
  device: string;
  threads?: number;
}

/** A trainer for the job, on data fetched (or taken from the cache) and verified. */
export async function createTrainer(
  o: WorkerPlace,
  client: CoordinatorClient,
  id: string,
  job: JobConfig,
  manifest: Manifest,
  log: Logger,
): Promise<Trainer> {
  const fetch = (file: string, sha256: string) => cachedFile(o.cacheDir, client, id, file, sha256);
  const tokenizerJson = new TextDecoder().decode(
    await fetch(manifest.tokenizer.file, manifest.tokenizer.sha256),
  );
  const split = async (name: "train" | "val") => {
    const shards = manifest.shards.filter((s) => s.split === name);
    const parts = await Promise.all(shards.map((s) => fetch(s.file, s.sha256)));
    return concatTokens(parts.map((p) => tokensFromBytes(p, manifest.dtype)), manifest.dtype);
  };
  const train = await split("train"), val = await split("val");
  log.info("data ready", { trainTokens: train.length, valTokens: val.length });
  const shared = job.transport === "tcp" && job.sharedMemory;
  const trainer = await Trainer.create({
    model: jobModel(job, manifest.tokenizer.vocabSize),
    train: job.train,
    trainTokens: train,
    valTokens: val.length ? val : undefined,
    tokenizerJson,
    device: o.device,
    threads: o.threads,
    // In shared memory goes what neighbours read: the fp16 copy on an fp16 wire (its fp32 sum then
    // stays private, and the one-value loss bucket is copied), else the fp32 gradients and loss.
    gradientBuffer: shared && job.wire !== "fp16" ? sharedFloat32Array : undefined,
    gradientWire: job.wire === "fp16" ? "fp16" : "fp32",
    halfGradientBuffer: shared ? sharedFloat16Array : undefined,
  });
  // A fine-tuning job's first weights live on the coordinator (its state of step 0 until a newer).
  if (job.initFrom) {
    const bytes = await client.download("FetchState", { worker_id: id });
    trainer.restore(decodeTrainingState(bytes, "coordinator state"));
  }
  return trainer;
}

/** A data file from the cache when its sha256 matches, else fetched from the coordinator. */
async function cachedFile(
  cacheDir: string,
  client: CoordinatorClient,
  id: string,
  file: string,
  sha256: string,
): Promise<Uint8Array> {
  const path = `${cacheDir}/${sha256}`;
  try {
    const bytes = await Deno.readFile(path);
    if (await sha256Hex(bytes) === sha256) return bytes;
  } catch {
    // not cached yet
  }
  const bytes = await client.download("FetchShard", { worker_id: id, file });
  const actual = await sha256Hex(bytes);
  if (actual !== sha256) throw new ChecksumError(file, sha256, actual);
  await Deno.mkdir(cacheDir, { recursive: true });
  await atomicWriteFile(path, bytes);
  return bytes;
}
