import type { Manifest } from "../model/data/mod.ts";

/**
 * One line for the end of a run: files by kind and status, tokens per split, shards, time, and
 * where the time went, stage by stage.
 *
 * @example
 * ```ts
 * summaryLine(manifest, 3.2, { extract: 1.2, tokenizer: 0.4, encode: 1.6 });
 * // "ingest: 5 files (code 1 ok; pdf 1 ok, 1 skipped; text 2 ok); 4,210 tokens (train 3,990, val 220) in 2 shards; 3.2 s (extract 1.2, tokenizer 0.4, encode 1.6)"
 * ```
 */
export function summaryLine(
  manifest: Pick<Manifest, "files" | "shards" | "totals">,
  seconds: number,
  stages: Record<string, number>,
): string {
  const byKind = new Map<string, { ok: number; skipped: number }>();
  for (const f of manifest.files) {
    const c = byKind.get(f.kind) ?? { ok: 0, skipped: 0 };
    c[f.status]++;
    byKind.set(f.kind, c);
  }
  const kinds = [...byKind.keys()].sort().map((k) => {
    const { ok, skipped } = byKind.get(k)!;
    return `${k} ${
      [ok ? `${ok} ok` : "", skipped ? `${skipped} skipped` : ""].filter(Boolean).join(", ")
    }`;
  });
  const { train, val } = manifest.totals;
  const n = (x: number) => x.toLocaleString("en-US");
  const split = Object.entries(stages).map(([stage, s]) => `${stage} ${s.toFixed(1)}`).join(", ");
  return `ingest: ${manifest.files.length} files (${kinds.join("; ")}); ${n(train + val)} tokens ` +
    `(train ${n(train)}, val ${n(val)}) in ${manifest.shards.length} shards; ${
      seconds.toFixed(1)
    } s (${split})`;
}
