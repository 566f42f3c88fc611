/**
 * GPT-2's real tokenizer, loaded by our code from a model hub's two layouts, gives the same ids as
 * two independent implementations, gpt-tokenizer's r50k_base and @huggingface/tokenizers, on a few
 * hundred KB of prose, code, Unicode, whitespace runs and `<|endoftext|>`; decoding round-trips.
 */
import assert from "node:assert/strict";
import { Tokenizer } from "@huggingface/tokenizers";
import { encode as r50k } from "gpt-tokenizer/encoding/r50k_base";
import { END_OF_TEXT, loadPretrainedTokenizer } from "../../model/tokenizer/mod.ts";
import { gpt2TokenizerJson, mixedText, writeGpt2VocabFiles } from "./_gpt2_files.ts";

/** Index of the first difference between two id lists, or −1. */
function firstDifference(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

function assertSameIds(ours: number[], theirs: number[], who: string) {
  const at = firstDifference(ours, theirs);
  assert.equal(
    at,
    -1,
    `${who}: ids differ at token ${at}: ours ${ours.slice(at, at + 8)} vs ${
      theirs.slice(at, at + 8)
    }`,
  );
}

Deno.test("GPT-2's tokenizer from vocab.json + merges.txt or tokenizer.json equals r50k and HF tokenizers", async () => {
  const text = await mixedText(300);
  const hfJson = await gpt2TokenizerJson();
  const pair = await Deno.makeTempDir({ prefix: "gpt2_vocab_" });
  const single = await Deno.makeTempDir({ prefix: "gpt2_tokjson_" });
  try {
    await writeGpt2VocabFiles(pair);
    await Deno.writeTextFile(`${single}/tokenizer.json`, JSON.stringify(hfJson));
    const fromPair = await loadPretrainedTokenizer(pair);
    const fromJson = await loadPretrainedTokenizer(single);
    assert.equal(fromPair.vocabSize, 50257);
    assert.equal(fromPair.endOfTextId, 50256);

    const ours = fromPair.encode(text);
    assertSameIds(fromJson.encode(text), ours, "tokenizer.json vs vocab.json + merges.txt");
    // tiktoken's allowed_special: the special token is split off first, the pieces encoded apart.
    const pieces = text.split(END_OF_TEXT).map((piece) => r50k(piece));
    assertSameIds(ours, pieces.flatMap((ids, i) => i === 0 ? ids : [50256, ...ids]), "r50k");
    const hf = new Tokenizer(hfJson, { clean_up_tokenization_spaces: false });
    assertSameIds(ours, hf.encode(text).ids, "@huggingface/tokenizers");
    assert.ok(ours.filter((id) => id === 50256).length > 10, "the text holds <|endoftext|>");

    assert.equal(fromPair.decode(ours), text);
    assert.equal(hf.decode(ours, { skip_special_tokens: false }), text);
    console.log(`${text.length} characters → ${ours.length} ids, equal in all three`);
  } finally {
    await Deno.remove(pair, { recursive: true });
    await Deno.remove(single, { recursive: true });
  }
});

Deno.test("a directory without a tokenizer is refused naming what it looked for", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/vocab.json`, "{}");
    await assert.rejects(
      () => loadPretrainedTokenizer(dir),
      /expected tokenizer\.json, or vocab\.json and merges\.txt/,
    );
    await Deno.writeTextFile(`${dir}/merges.txt`, "#version: 0.2\na b\n");
    await Deno.writeTextFile(`${dir}/vocab.json`, "[1, 2]");
    await assert.rejects(() => loadPretrainedTokenizer(dir), /vocab\.json: Expected an object/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
