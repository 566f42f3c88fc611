/**
 * Reads Prometheus text with an independent parser (npm parse-prometheus-text-format), so the
 * tests do not check prom-client's output with prom-client.
 */
// @ts-types="./_prometheus.d.ts"
import parse from "parse-prometheus-text-format";

/** One sample: a counter's or gauge's value, or a histogram's count and sum. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
  count?: number;
  sum?: number;
}

/** Families by name; throws when the text does not parse or a family has no TYPE. */
export function parsePrometheus(text: string): Map<string, { type: string; samples: Sample[] }> {
  const families = new Map<string, { type: string; samples: Sample[] }>();
  for (const f of parse(text)) {
    if (!f.type) throw new Error(`Metric family "${f.name}" has no TYPE line`);
    families.set(f.name, {
      type: f.type,
      samples: f.metrics.map((m) => ({
        labels: m.labels ?? {},
        value: Number(m.value ?? NaN),
        count: m.count === undefined ? undefined : Number(m.count),
        sum: m.sum === undefined ? undefined : Number(m.sum),
      })),
    });
  }
  return families;
}

/** The value of `name`'s sample whose labels include `labels` (0 when there is none). */
export function sampleValue(
  families: ReturnType<typeof parsePrometheus>,
  name: string,
  labels: Record<string, string> = {},
  field: "value" | "count" | "sum" = "value",
): number {
  const family = families.get(name);
  if (!family) throw new Error(`No metric family "${name}"`);
  const s = family.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return s ? s[field] ?? NaN : 0;
}
