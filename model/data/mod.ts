/**
 * Token shards as ingest writes them and the trainer and coordinator read them: the manifest
 * schema and a verifying reader. Readers never import `ingest/`.
 *
 * @example
 * ```ts
 * import { loadTokens, readManifest } from "../model/data/mod.ts";
 * const manifest = await readManifest("runs/data"); // throws ChecksumError naming a bad shard
 * const train = await loadTokens("runs/data", "train");
 * ```
 */
export { FileKind, Manifest, ManifestFile, ManifestShard } from "./manifest.ts";
export type { Split } from "./manifest.ts";
export { loadTokens, readManifest, readShard, streamShards } from "./shard_reader.ts";
export type { ReadManifestOptions } from "./shard_reader.ts";
export { concatTokens, tokensFromBytes } from "./tokens.ts";
export type { ShardDtype, ShardTokens } from "./tokens.ts";
