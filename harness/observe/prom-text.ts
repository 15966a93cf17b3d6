// The Prometheus text exposition format, read back: what every service's /metrics answers.
// Only samples are kept (HELP/TYPE lines skipped); histograms arrive as their _bucket/_sum/_count.

export interface PromSample {
  name: string
  labels: Record<string, string>
  value: number
}

// Every name and label parsed from an answer is a slice of it, and in V8 a slice keeps the whole
// answer alive: a run that keeps one series key per scrape kept every /metrics body it ever read.
// Names and label values are a small, bounded set: each is held once, as its own copy.
const INTERNED = new Map<string, string>()
const INTERN_CAP = 100_000

function own(s: string): string {
  const known = INTERNED.get(s)
  if (known !== undefined) return known
  const copy = Buffer.from(s, 'utf8').toString('utf8')
  if (INTERNED.size < INTERN_CAP) INTERNED.set(copy, copy)
  return copy
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

export function parsePromText(text: string): PromSample[] {
  const out: PromSample[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const m = LINE.exec(line)
    if (!m) continue
    const labels: Record<string, string> = {}
    if (m[3]) for (const l of m[3].matchAll(LABEL)) labels[own(l[1])] = own(l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\'))
    const value = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4])
    if (!Number.isNaN(value)) out.push({ name: own(m[1]), labels, value })
  }
  return out
}

/** "name{a="1",b="2"}" with the labels in a stable order; the labels every service adds are left out. */
export function seriesKey(s: PromSample, omit: readonly string[] = ['service', 'instance']): string {
  const labels = Object.entries(s.labels)
    .filter(([k]) => !omit.includes(k))
    .sort(([a], [b]) => a.localeCompare(b))
  return labels.length ? `${s.name}{${labels.map(([k, v]) => `${k}="${v}"`).join(',')}}` : s.name
}
