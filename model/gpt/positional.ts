/**
 * The fixed sinusoidal position table of "Attention Is All You Need":
 * PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)).
 * Nearby positions get similar vectors, and any offset is a linear map of the table.
 */
export function sinusoidalTable(positions: number, width: number): Float32Array {
  const table = new Float32Array(positions * width);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < width; i += 2) {
      const angle = p / Math.pow(10000, i / width);
      table[p * width + i] = Math.sin(angle);
      if (i + 1 < width) table[p * width + i + 1] = Math.cos(angle);
    }
  }
  return table;
}
