import assert from "node:assert/strict";
import { Tokenizer } from "@huggingface/tokenizers";
import {
  byteTokenizer,
  END_OF_TEXT,
  loadTokenizer,
  preTokenize,
  saveTokenizer,
  toTokenizerJson,
  trainBpe,
} from "../../model/tokenizer/mod.ts";
import { GPT2_PATTERN } from "../../model/tokenizer/pre_tokenize.ts";
import { seededRandom } from "../../model/optim/mod.ts";

const CORPUS = [
  "The quick brown fox jumps over the lazy dog. It's the fox's 3rd jump today, isn't it?\n",
  "Tokenizers split text into pieces; byte-level BPE never needs an unknown token.\n",
  "function add(a: number, b: number): number {\n  return a + b;\n}\n\n\tconst x = add(1, 2);\n",
  "東京は日本の首都です。北京是中国的首都。서울은 한국의 수도입니다.\n",
  "Emoji: 👋🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ 😀😀😀 — café, naïve, Ångström, Straße.\n",
  "Numbers 12345 67890 3.14159 and   multiple   spaces\n\n\n  trailing  \n",
].map((s) => s.repeat(30));

const PROBES = [
  "Hello world! The lazy dog's 42 bones.",
  "   leading spaces and trailing   ",
  "mixed\ttabs\nand\r\nnewlines\n\n",
  "東京タワー と 北京烤鸭, 한국어 텍스트",
  "👋🏽👨‍👩‍👧‍👦🇫🇷 emoji soup ❤️‍🔥",
  "unseen words: zyxwvut qqqq Ω≈ç√∫˜µ≤≥÷",
  "code(){ return [1,2,3].map(x => x ** 2); } // done",
  "before<|endoftext|>after <|pad|> end",
  "",
  " ",
  "'s 're 've 'll 'd 'm 't",
];

Deno.test("tokenizer ids equal @huggingface/tokenizers loading our tokenizer.json", async () => {
  const tok = trainBpe(CORPUS, { vocabSize: 500 });
  assert.equal(tok.vocabSize, 500);
  const dir = await Deno.makeTempDir();
  try {
    await saveTokenizer(`${dir}/tokenizer.json`, tok);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/tokenizer.json`));
    const hf = new Tokenizer(json, { clean_up_tokenization_spaces: false });
    for (const text of [...PROBES, ...CORPUS.map((c) => c.slice(0, 500))]) {
      const ours = tok.encode(text);
      const theirs = hf.encode(text).ids;
      assert.deepEqual(ours, theirs, `ids differ for ${JSON.stringify(text)}`);
      if (theirs.length > 0) assert.equal(hf.decode(theirs), text);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decode(encode(x)) === x for random strings with emoji, CJK and whitespace", async () => {
  const trained = trainBpe(CORPUS, { vocabSize: 700 });
  const dir = await Deno.makeTempDir();
  await saveTokenizer(`${dir}/tokenizer.json`, trained);
  const reloaded = await loadTokenizer(`${dir}/tokenizer.json`);
  await Deno.remove(dir, { recursive: true });
  const rng = seededRandom(1234);
  const pools = [
    () => String.fromCharCode(0x20 + Math.floor(rng() * 95)), // printable ASCII
    () => " \t\n\r\u00a0\u3000"[Math.floor(rng() * 6)],
    () => String.fromCodePoint(0x4e00 + Math.floor(rng() * 0x5000)), // CJK
    () => String.fromCodePoint(0x1f300 + Math.floor(rng() * 0x300)), // emoji
    () => "\u200d\ufe0f\u0301"[Math.floor(rng() * 3)], // joiners and combining marks
    () => String.fromCodePoint(randomScalar(rng)), // any Unicode scalar value
    () => ["<|endoftext|>", "<|pad|>", "'s", "'ll"][Math.floor(rng() * 4)],
  ];
  for (let trial = 0; trial < 400; trial++) {
    let s = "";
    const len = Math.floor(rng() * 40);
    for (let i = 0; i < len; i++) s += pools[Math.floor(rng() * pools.length)]();
    for (const tok of [trained, reloaded, byteTokenizer()]) {
      assert.equal(tok.decode(tok.encode(s)), s, `round trip failed for ${JSON.stringify(s)}`);
      assert.equal(tok.decode(tok.encodeOrdinary(s)), s);
    }
    assert.deepEqual(reloaded.encode(s), trained.encode(s));
  }
});

Deno.test("byte tokenizer maps each byte to its own id and specials after them", () => {
  const tok = byteTokenizer();
  assert.equal(tok.vocabSize, 258);
  assert.deepEqual(tok.encode("hé"), [0x68, 0xc3, 0xa9]);
  assert.equal(tok.endOfTextId, 256);
  assert.equal(tok.padId, 257);
  assert.deepEqual(tok.encode(`a${END_OF_TEXT}`), [0x61, 256]);
  assert.deepEqual(tok.encodeOrdinary(END_OF_TEXT), [...new TextEncoder().encode(END_OF_TEXT)]);
  assert.equal(tok.decode([0x61, 256, 257], { skipSpecial: true }), "a");
});

Deno.test("trainer merges the most frequent pair first and is deterministic", () => {
  // "ab" occurs 6 times, "cd" 3 times: the first merge must be (a, b), then (ab, " ")... by counts.
  const text = "ab ab ab ab ab ab cd cd cd";
  const tok = trainBpe([text], { vocabSize: 256 + 2 + 3 });
  const first = tok.spec.merges[0];
  assert.deepEqual(first, [0x61, 0x62]);
  assert.deepEqual(tok.encode("ab"), [256]);
  const again = trainBpe([text], { vocabSize: 256 + 2 + 3 });
  assert.deepEqual(again.spec.merges, tok.spec.merges);
  assert.deepEqual(
    JSON.stringify(toTokenizerJson(again)),
    JSON.stringify(toTokenizerJson(tok)),
  );
});

Deno.test("trainer stops early when no pair repeats and says so through the vocabulary size", () => {
  const tok = trainBpe(["xy"], { vocabSize: 1000 });
  assert.equal(tok.spec.merges.length, 0);
  assert.equal(tok.vocabSize, 258);
});

Deno.test("pre-tokenizer splits like GPT-2 and loses nothing", () => {
  assert.deepEqual([...preTokenize("Hello world's 123!!  x")], [
    "Hello",
    " world",
    "'s",
    " 123",
    "!!",
    " ",
    " x",
  ]);
});

/** Strings made of pieces from every class GPT-2's pattern tells apart, and its edge cases. */
function patternTexts(count: number, seed: number): string[] {
  const pieces = [
    ..."aZéß日Ωк", // letters, some beyond Latin-1
    ..."059١²½", // decimal digits elsewhere, superscripts, fractions
    " ",
    "  ",
    ..."\n\t\r\v\f\u00a0\u1680\u2000\u2028\u2029\u202f\u3000\ufeff", // every kind of \s
    ..."!?.-_$'\u0301\u200b", // punctuation, an apostrophe, a combining mark, a zero-width space
    "'s",
    "'t",
    "'re",
    "'ve",
    "'m",
    "'ll",
    "'d",
    "'S",
    "'x",
    "😀",
    "𝒜", // a letter outside the BMP
    "𝟙", // a digit outside the BMP
    "\ud800", // lone surrogates
    "\udc00",
  ];
  const rng = seededRandom(seed);
  return Array.from({ length: count }, () => {
    let s = "";
    for (let i = Math.floor(rng() * 24); i > 0; i--) s += pieces[Math.floor(rng() * pieces.length)];
    return s;
  });
}

Deno.test("pre-tokenizer cuts exactly where GPT-2's pattern does, on text of every class", () => {
  for (const text of [...patternTexts(5000, 3), ...CORPUS, CORPUS.join("")]) {
    const expected = [...text.matchAll(new RegExp(GPT2_PATTERN.source, "gu"))].map((m) => m[0]);
    assert.deepEqual([...preTokenize(text)], expected, JSON.stringify(text));
  }
});

/** A random Unicode scalar value (no lone surrogates: those are not text and UTF-8 cannot hold them). */
function randomScalar(rng: () => number): number {
  for (;;) {
    const cp = Math.floor(rng() * 0x110000);
    if (cp < 0xd800 || cp > 0xdfff) return cp;
  }
}
