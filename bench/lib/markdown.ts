/** Markdown tables and number formatting for the benchmark report. */

export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** A fraction in [0, 1] as a percentage with one decimal, or "n/a". */
export const pct = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? 'n/a' : `${(100 * x).toFixed(1)}`);

export const num = (x: number | undefined, digits = 2): string =>
  x === undefined || Number.isNaN(x) ? 'n/a' : x === Infinity ? 'inf' : x.toFixed(digits);

export const mean = (xs: readonly number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
