// Counts the words of a text and prints the most frequent ones: a sample source file for ingest.

/** Splits text into lowercase words made of letters and apostrophes. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z']+/g) ?? [];
}

/** How often each word occurs, most frequent first; ties keep alphabetical order. */
export function wordCounts(text: string): [string, number][] {
  const counts = new Map<string, number>();
  for (const w of words(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

if (import.meta.main) {
  const text = await new Response(Deno.stdin.readable).text();
  for (const [word, n] of wordCounts(text).slice(0, 20)) console.log(`${n}\t${word}`);
}
