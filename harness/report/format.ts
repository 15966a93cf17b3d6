// Small formatters shared by the markdown and the HTML outputs, so a number reads the same in both.

export const sec = (ms: number | null | undefined) => (ms === null || ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`)
export const pct = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(v * 100).toFixed(1)}%`)
export const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${Math.round(v)} ms`)
export const score = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${Math.round(v * 100)}%`)

/** Signed seconds, for differences: `+3.2 s`, `-0.5 s`. */
export const delta = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${v >= 0 ? '+' : '-'}${Math.abs(v / 1000).toFixed(1)} s`)

export const escHtml = (s: unknown) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
export const escCell = (s: unknown) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ')

export function toleranceText(t: { min?: number; max?: number }): string {
  return [t.min !== undefined ? `>= ${t.min}` : '', t.max !== undefined ? `<= ${t.max}` : ''].filter(Boolean).join(', ')
}

export function probeValue(v: number | null): string {
  return v === null ? 'no data' : String(Number(v.toFixed(3)))
}

/** JSON for a `<script type="application/json">` block: `</script>` and friends cannot close it. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}
