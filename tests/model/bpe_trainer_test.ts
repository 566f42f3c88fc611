import assert from "node:assert/strict";
import { countWords, trainBpe, WordCounts } from "../../model/tokenizer/mod.ts";
import { GPT2_PATTERN } from "../../model/tokenizer/pre_tokenize.ts";
import { seededRandom } from "../../model/optim/mod.ts";

/** Documents with a Zipf-like vocabulary: a few frequent words, many rare ones. */
function corpus(docs: number, seed: number): string[] {
  const rng = seededRandom(seed);
  const word = () => {
    const rank = Math.floor(1 / (rng() + 0.002));
    return `w${rank.toString(36)}${rank % 7 === 0 ? "ing" : "s"}`;
  };
  return Array.from({ length: docs }, () => Array.from({ length: 300 }, word).join(" ") + ".\n");
}

Deno.test("a text's word tally holds each pre-token once, with how often it occurs, in first-seen order", () => {
  // Enough distinct words that the tally's table grows several times, some told apart only by
  // their last character, and words that differ in length but share a prefix.
  const many = Array.from({ length: 9000 }, (_, i) => `w${((i * 7919) % 3001).toString(36)}`);
  const text = corpus(5, 3).join("") + many.join(" ") + " wa wab wabc wa'll 😀😀 \ud800x  \n\n y";
  const expected = new Map<string, number>();
  for (const [word] of text.matchAll(new RegExp(GPT2_PATTERN.source, "gu"))) {
    expected.set(word, (expected.get(word) ?? 0) + 1);
  }
  const tally = countWords(text);
  const words = [...tally.ends].map((end, k) => tally.words.slice(k ? tally.ends[k - 1] : 0, end));
  assert.ok(expected.size > 1500, `${expected.size} distinct words`);
  assert.deepEqual(words, [...expected.keys()]);
  assert.deepEqual([...tally.counts], [...expected.values()]);
  assert.deepEqual(countWords(""), {
    words: "",
    ends: new Uint32Array(),
    counts: new Uint32Array(),
  });
});

Deno.test("counts gathered document by document, in any order, train the tokenizer the texts train", () => {
  const docs = corpus(40, 1);
  const direct = trainBpe(docs, { vocabSize: 400 });
  const counts = new WordCounts();
  // Counted elsewhere (as ingest's worker threads do), merged in reverse, one document added twice
  // and taken away again.
  for (const d of [...docs].reverse()) counts.add(countWords(d));
  counts.add(countWords(docs[3]));
  counts.add(countWords(docs[3]), -1);
  const fromCounts = trainBpe(counts, { vocabSize: 400 });
  assert.equal(counts.droppedAtMost, 0);
  assert.deepEqual(fromCounts.spec.merges, direct.spec.merges);
  assert.deepEqual(fromCounts.spec.tokens, direct.spec.tokens);
});

Deno.test("past maxWords distinct words the rarest are dropped, and that is reported", () => {
  const docs = corpus(40, 2);
  const all = new WordCounts();
  for (const d of docs) all.addText(d);
  const capped = new WordCounts({ maxWords: Math.floor(all.size / 3) });
  for (const d of docs) capped.addText(d);
  assert.ok(capped.size <= capped.maxWords, `${capped.size} > ${capped.maxWords}`);
  assert.ok(capped.droppedAtMost >= 1);
  // The most frequent words keep their exact counts; no count is ever inflated.
  const exactCounts = new Map(all.entries());
  const frequent = [...all.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
  for (const [w, n] of frequent) assert.equal(new Map(capped.entries()).get(w), n, w);
  for (const [w, n] of capped.entries()) assert.ok(n <= exactCounts.get(w)!, w);
  // Training on what is left still learns merges and round-trips any text.
  const tok = trainBpe(capped, { vocabSize: 300 });
  assert.ok(tok.vocabSize > 258 && tok.vocabSize <= 300);
  assert.equal(tok.decode(tok.encode(docs[0])), docs[0]);
});
