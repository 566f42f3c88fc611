import { z } from "zod";
import { atomicWriteText } from "../atomic_write.ts";
import { InputError } from "../errors.ts";
import { BpeTokenizer } from "./bpe_tokenizer.ts";
import { bytesToTokenString, tokenStringToBytes } from "./byte_level.ts";

/** The parts of a Hugging Face `tokenizer.json` a byte-level BPE tokenizer needs. */
export const TokenizerJson = z.object({
  version: z.string().optional(),
  added_tokens: z.array(
    z.object({
      id: z.number().int().nonnegative(),
      content: z.string(),
      special: z.boolean().default(true),
    }).passthrough(),
  ).default([]),
  pre_tokenizer: z.object({ type: z.string() }).passthrough().nullable().optional(),
  decoder: z.object({ type: z.string() }).passthrough().nullable().optional(),
  model: z.object({
    type: z.literal("BPE"),
    vocab: z.record(z.string(), z.number().int().nonnegative()),
    merges: z.array(z.union([z.string(), z.tuple([z.string(), z.string()])])),
  }).passthrough(),
}).passthrough();
export type TokenizerJson = z.infer<typeof TokenizerJson>;

/**
 * The tokenizer in Hugging Face `tokenizer.json` form (GPT-2 layout: ByteLevel pre-tokenizer and
 * decoder, BPE model, special tokens as added tokens), so `tokenizers` and `transformers` load it.
 */
export function toTokenizerJson(tok: BpeTokenizer): Record<string, unknown> {
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  const vocab: Record<string, number> = {};
  tok.spec.tokens.forEach((bytes, id) => {
    if (bytes) vocab[bytesToTokenString(bytes)] = id;
  });
  for (const s of tok.spec.specials) vocab[s.content] = s.id;
  const name = (id: number) => bytesToTokenString(tok.spec.tokens[id]!);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: tok.spec.specials.map((s) => ({
      id: s.id,
      content: s.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", ...byteLevel },
    post_processor: { type: "ByteLevel", ...byteLevel, trim_offsets: false },
    decoder: { type: "ByteLevel", ...byteLevel },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: tok.spec.merges.map(([a, b]) => [name(a), name(b)]),
    },
  };
}

/** Builds a tokenizer from a parsed `tokenizer.json`; `where` names the file in errors. */
export function fromTokenizerJson(json: unknown, where = "tokenizer.json"): BpeTokenizer {
  const parsed = TokenizerJson.safeParse(json);
  if (!parsed.success) {
    throw new InputError(where, `Not a byte-level BPE tokenizer.json: ${parsed.error.message}`);
  }
  const { model, added_tokens } = parsed.data;
  if (parsed.data.pre_tokenizer && parsed.data.pre_tokenizer.type !== "ByteLevel") {
    throw new InputError(where, `Unsupported pre_tokenizer "${parsed.data.pre_tokenizer.type}"`);
  }
  const specialIds = new Set(added_tokens.map((t) => t.id));
  const tokens: (Uint8Array | undefined)[] = [];
  const idOf = new Map<string, number>();
  for (const [str, id] of Object.entries(model.vocab)) {
    idOf.set(str, id);
    if (specialIds.has(id)) continue;
    const bytes = tokenStringToBytes(str);
    if (!bytes) throw new InputError(where, `Token "${str}" (id ${id}) is not byte-level`);
    tokens[id] = bytes;
  }
  const merges = model.merges.map((m, rank) => {
    const [a, b] = typeof m === "string" ? splitMerge(m) : m;
    const ia = idOf.get(a), ib = idOf.get(b);
    if (ia === undefined || ib === undefined) {
      throw new InputError(where, `Merge ${rank} "${a} ${b}" uses a token not in the vocabulary`);
    }
    return [ia, ib] as const;
  });
  try {
    return new BpeTokenizer({
      tokens,
      merges,
      specials: added_tokens.map((t) => ({ content: t.content, id: t.id })),
    });
  } catch (err) {
    throw new InputError(where, (err as Error).message, { cause: err });
  }
}

/** Writes `tokenizer.json` atomically. */
export async function saveTokenizer(path: string, tok: BpeTokenizer): Promise<void> {
  await atomicWriteText(path, JSON.stringify(toTokenizerJson(tok)) + "\n");
}

/** Reads a `tokenizer.json` file. */
export async function loadTokenizer(path: string): Promise<BpeTokenizer> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new InputError(path, `Cannot read tokenizer: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(path, `Invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  return fromTokenizerJson(json, path);
}

function splitMerge(m: string): [string, string] {
  const i = m.indexOf(" ", 1);
  return [m.slice(0, i), m.slice(i + 1)];
}
