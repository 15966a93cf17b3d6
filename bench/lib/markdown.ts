// Markdown tables for benchmark output: the same text goes to the terminal and to RESULTS.md.

export type Cell = string | number | undefined | null

export function table(header: string[], rows: Cell[][], align?: ('l' | 'r')[]): string {
  const fmt = (c: Cell) => (c === undefined || c === null || (typeof c === 'number' && Number.isNaN(c)) ? '-' : String(c))
  const sep = header.map((_, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'r' ? '---:' : ':---'))
  return [header, sep, ...rows.map((r) => r.map(fmt))].map((r) => `| ${r.join(' | ')} |`).join('\n')
}

/** 12345.6 -> "12,346"; keeps tables readable without losing the figure. */
export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-'
}

export function ms(n: number): string {
  return Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : '-'
}
