/**
 * `deno task bench tokenizer [--mb 10] [--vocab 8192]`: BPE training time on generated prose and
 * code, then encoding throughput of our tokenizer against @huggingface/tokenizers (loading our
 * tokenizer.json, so the ids must match) and gpt-tokenizer (GPT-2's r50k and GPT-4o's o200k
 * vocabularies) on the same text. Prints one JSON object; never asserts on time.
 */
import { parseArgs } from "node:util";
import { round } from "./_stats.ts";
import { Tokenizer } from "@huggingface/tokenizers";
import { encode as gptEncodeO200k } from "gpt-tokenizer";
import { encode as gptEncodeR50k } from "gpt-tokenizer/encoding/r50k_base";
import { toTokenizerJson, trainBpe } from "../model/tokenizer/mod.ts";
import { seededRandom } from "../model/optim/mod.ts";

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { mb: { type: "string", default: "10" }, vocab: { type: "string", default: "8192" } },
  });
  const bytesWanted = Number(values.mb) * 1024 * 1024;
  const vocabSize = Number(values.vocab);
  const docs = realisticText(bytesWanted, 42);
  const bytes = docs.reduce((n, d) => n + new TextEncoder().encode(d).length, 0);
  const mb = bytes / 1e6;

  let t = performance.now();
  const tok = trainBpe(docs, { vocabSize });
  const trainSeconds = (performance.now() - t) / 1000;
  const hf = new Tokenizer(toTokenizerJson(tok), { clean_up_tokenization_spaces: false });

  const peers: Record<string, (s: string) => ArrayLike<number>> = {
    ours: (s) => tok.encodeOrdinary(s),
    "@huggingface/tokenizers": (s) => hf.encode(s, { add_special_tokens: false }).ids,
    "gpt-tokenizer r50k_base": (s) => gptEncodeR50k(s),
    "gpt-tokenizer o200k_base": (s) => gptEncodeO200k(s),
  };
  const encode: Record<string, { mbPerSecond: number; tokens: number; seconds: number }> = {};
  for (const [name, fn] of Object.entries(peers)) {
    for (const d of docs.slice(0, 20)) fn(d); // warm-up: JIT and caches
    t = performance.now();
    let tokens = 0;
    for (const d of docs) tokens += fn(d).length;
    const seconds = (performance.now() - t) / 1000;
    encode[name] = { mbPerSecond: round(mb / seconds, 3), tokens, seconds: round(seconds, 3) };
    await new Promise((r) => setTimeout(r, 0));
  }
  let idsMatchHf = true;
  for (const d of docs.slice(0, 200)) {
    const a = tok.encodeOrdinary(d), b = hf.encode(d, { add_special_tokens: false }).ids;
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) idsMatchHf = false;
  }
  console.log(JSON.stringify({
    bench: "tokenizer",
    textMB: round(mb, 3),
    documents: docs.length,
    train: { vocabSize: tok.vocabSize, requested: vocabSize, seconds: round(trainSeconds, 3) },
    encode,
    idsMatchHf,
    cpus: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
  }));
}

/**
 * Seeded text that looks like a real corpus to a tokenizer: prose from a Zipf-distributed vocabulary
 * of 20,000 pronounceable words with capitals, punctuation and numbers, interleaved with source code
 * and a little non-Latin text, in documents of a few kilobytes.
 */
export function realisticText(bytesWanted: number, seed: number): string[] {
  const rng = seededRandom(seed);
  const onsets = [
    "",
    "b",
    "c",
    "d",
    "f",
    "g",
    "h",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "w",
    "th",
    "st",
    "pr",
    "ch",
    "sh",
    "tr",
    "gr",
    "pl",
  ];
  const vowels = ["a", "e", "i", "o", "u", "ea", "ou", "io", "ai", "y"];
  const codas = ["", "", "n", "r", "s", "t", "l", "nd", "ng", "st", "rt", "ck", "m", "x"];
  const lexicon: string[] = [
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
  ];
  const seen = new Set(lexicon);
  while (lexicon.length < 20_000) {
    let w = "";
    const syllables = 1 + Math.floor(rng() * rng() * 4);
    for (let s = 0; s < syllables; s++) {
      w += pick(rng, onsets) + pick(rng, vowels) + pick(rng, codas);
    }
    if (!seen.has(w)) {
      seen.add(w);
      lexicon.push(w);
    }
  }
  const zipf = (): string =>
    lexicon[
      Math.min(lexicon.length - 1, Math.floor(Math.exp(rng() * Math.log(lexicon.length + 1))) - 1)
    ];
  const foreign = [
    "東京は日本の首都です。",
    "数据驱动的模型训练。",
    "Ünïcødé çåfé naïve façade.",
    "Привет, мир!",
    "🙂 👍🏽 🚀",
  ];
  const codeBits = [
    "function {w}({v}: number): number {\n  const {v}2 = {v} * {n};\n  return {v}2 + {n};\n}\n",
    "for (let i = 0; i < {n}; i++) {\n    {w}[i] = {v}.map((x) => x + i);\n}\n",
    "def {w}(self, {v}):\n    if {v} is None:\n        return {n}\n    return self.{v} + {n}\n",
    "SELECT {w}, COUNT(*) FROM {v} WHERE id > {n} GROUP BY {w};\n",
  ];
  const docs: string[] = [];
  let total = 0;
  while (total < bytesWanted) {
    let doc = "";
    const paragraphs = 2 + Math.floor(rng() * 6);
    for (let p = 0; p < paragraphs; p++) {
      if (rng() < 0.15) {
        doc += pick(rng, codeBits).replace(/\{w\}/g, zipf()).replace(/\{v\}/g, zipf()).replace(
          /\{n\}/g,
          String(Math.floor(rng() * 1000)),
        ) + "\n";
        continue;
      }
      const sentences = 2 + Math.floor(rng() * 6);
      for (let s = 0; s < sentences; s++) {
        const n = 4 + Math.floor(rng() * 18);
        const words: string[] = [];
        for (let i = 0; i < n; i++) {
          let w = rng() < 0.03
            ? String(Math.floor(rng() * 10 ** (1 + Math.floor(rng() * 4))))
            : zipf();
          if (i === 0 || rng() < 0.05) w = w[0].toUpperCase() + w.slice(1);
          if (i < n - 1 && rng() < 0.08) w += pick(rng, [",", ",", ";", ":", "'s"]);
          words.push(w);
        }
        doc += words.join(" ") + pick(rng, [".", ".", ".", "?", "!"]) + " ";
        if (rng() < 0.02) doc += pick(rng, foreign) + " ";
      }
      doc = doc.trimEnd() + "\n\n";
    }
    docs.push(doc);
    total += doc.length;
  }
  return docs;
}

function pick<T>(rng: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rng() * xs.length)];
}
