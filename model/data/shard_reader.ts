import { ChecksumError, InputError } from "../errors.ts";
import { sha256Hex } from "../sha256.ts";
import { Manifest, type ManifestShard, type Split } from "./manifest.ts";
import { concatTokens, type ShardTokens, tokensFromBytes } from "./tokens.ts";

/** Options for {@linkcode readManifest}. */
export interface ReadManifestOptions {
  /** Hash every shard and the tokenizer file against the manifest (default true). */
  verify?: boolean;
}

/**
 * Reads and validates `DIR/manifest.json`; by default also checks every shard's and the
 * tokenizer's sha256, throwing a {@linkcode ChecksumError} that names the bad file.
 *
 * @example
 * ```ts
 * const manifest = await readManifest("runs/data");
 * ```
 */
export async function readManifest(dir: string, opts: ReadManifestOptions = {}): Promise<Manifest> {
  const path = `${dir}/manifest.json`;
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    throw new InputError(path, `Cannot read shard manifest: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) throw new InputError(path, `Invalid manifest: ${parsed.error.message}`);
  const manifest = parsed.data;
  if (opts.verify ?? true) {
    await verifyFile(`${dir}/${manifest.tokenizer.file}`, manifest.tokenizer.sha256);
    for (const shard of manifest.shards) await readShard(dir, manifest, shard);
  }
  return manifest;
}

/** Reads one shard, checks its sha256 and length, and returns its tokens. */
export async function readShard(
  dir: string,
  manifest: Manifest,
  shard: ManifestShard,
): Promise<Uint16Array | Uint32Array> {
  const path = `${dir}/${shard.file}`;
  const bytes = await verifyFile(path, shard.sha256);
  const width = manifest.dtype === "uint16" ? 2 : 4;
  if (bytes.length !== shard.tokens * width) {
    throw new InputError(
      path,
      `Shard holds ${bytes.length} bytes, expected ${shard.tokens * width}`,
    );
  }
  return tokensFromBytes(bytes, manifest.dtype);
}

/**
 * All tokens of one split, shards concatenated in manifest order (each verified), documents
 * separated by the end-of-text id.
 */
export async function loadTokens(dir: string, split: Split): Promise<ShardTokens> {
  const manifest = await readManifest(dir, { verify: false });
  const parts = [];
  for (const shard of manifest.shards) {
    if (shard.split === split) parts.push(await readShard(dir, manifest, shard));
  }
  return concatTokens(parts, manifest.dtype);
}

/**
 * Streams the shards of one split, verified one at a time, for callers that should not hold the
 * whole split in memory.
 */
export async function* streamShards(
  dir: string,
  split: Split,
): AsyncGenerator<{ shard: ManifestShard; tokens: Uint16Array | Uint32Array }> {
  const manifest = await readManifest(dir, { verify: false });
  for (const shard of manifest.shards.filter((s) => s.split === split)) {
    yield { shard, tokens: await readShard(dir, manifest, shard) };
  }
}

async function verifyFile(path: string, expected: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new InputError(
      path,
      `Cannot read file listed in the manifest: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const actual = await sha256Hex(bytes);
  if (actual !== expected) throw new ChecksumError(path, expected, actual);
  return bytes;
}
