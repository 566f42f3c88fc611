/** Types of parse-prometheus-text-format 1.1.1, which ships none. */
export interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: {
    labels?: Record<string, string>;
    value?: string;
    count?: string;
    sum?: string;
    buckets?: Record<string, string>;
  }[];
}
export default function parse(text: string): ParsedFamily[];
