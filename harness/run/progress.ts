// What the terminal shows while a run goes: the phase, the elapsed time and a line per service
// (calls, success ratio, p99 in the last second). On a TTY the block redraws in place; without one
// (CI, a pipe) it prints a plain line every few seconds and each event as it happens.
import type { Experiment } from '../experiment/types.js'
import type { Journal, JournalEvent } from '../analyze/journal.js'
import { formatWindow, type WindowStats } from '../workload/recorder.js'

export interface Progress {
  start(exp: Experiment, outDir: string): void
  phase(name: string): void
  event(e: JournalEvent): void
  services(stats: WindowStats[], atMs: number): void
  error(message: string): void
  done(journal: Journal, outDir: string): void
}

export const silentProgress: Progress = {
  start() {},
  phase() {},
  event() {},
  services() {},
  error() {},
  done() {},
}

const fmtMs = (ms: number) => `${ms < 0 ? '-' : ''}${(Math.abs(ms) / 1000).toFixed(1)}s`

function describe(e: JournalEvent): string | undefined {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each event kind has its own free-form detail
  const d = e.detail as any
  switch (e.kind) {
    case 'action-start':
      return `${d.phase === 'rollbacks' ? 'rollback' : 'action'} ${d.name} (${d.provider}) started`
    case 'action-end':
      return `${d.phase === 'rollbacks' ? 'rollback' : 'action'} ${d.name} ${d.ok ? 'done' : `FAILED: ${d.error}`}`
    case 'probe':
      return `probe ${d.name} (${d.phase}): ${d.met ? 'met' : 'NOT met'} (${d.value === null ? 'no data' : Number(d.value).toFixed(3)})`
    case 'alarm':
      return `alarm ${d.name} -> ${d.state}${d.member ? ` (${d.member}: ${d.threads}/${d.limit} threads)` : ''}`
    case 'service-exited':
      return `exited ${d.name} (${d.signal ?? `code ${d.code}`})`
    case 'member-replaced':
      return `replaced ${d.name} (${d.reason})`
    case 'fleet-scaled':
      return `fleet ${d.fleet} scaled ${d.from} -> ${d.to}`
    case 'fleet-restarted':
      return `fleet ${d.fleet} restarted (${d.restarted?.length ?? 0} members in ${d.durationMs} ms)`
    case 'delivery':
      return d.error
        ? `delivery ${d.customer} -> ${d.stream}: not checked: ${d.error}`
        : `delivery ${d.customer} -> ${d.stream}: ${d.delivered} of ${d.acknowledged} acknowledged events found, ${d.lost} lost (${d.reads} reads, ${d.tookMs} ms)`
    case 'log':
      return d.level ? `${d.level}: ${d.message}` : d.message
    case 'internal-ports':
      // Only the fallback is news: by default nothing internal is published.
      return d.published ? `internal services (metadata, back-ends, front-ends) published on 127.0.0.1 too: ${d.why}` : undefined
    default:
      return undefined
  }
}

export function terminalProgress(out: NodeJS.WriteStream = process.stderr): Progress {
  const tty = !!out.isTTY && process.env.CI !== 'true'
  let phase = 'validate'
  let started = Date.now()
  let lastPlain = 0
  let drawn = 0
  const clear = () => {
    if (tty && drawn) out.write(`\x1b[${drawn}A\x1b[0J`)
    drawn = 0
  }
  const line = (s: string) => {
    clear()
    out.write(s + '\n')
  }
  return {
    start(exp, outDir) {
      started = Date.now()
      line(`outage-lab run: ${exp.title}`)
      line(`  ${exp.file} -> ${outDir}`)
    },
    phase(name) {
      phase = name
      line(`[${fmtMs(Date.now() - started)}] phase: ${name}`)
    },
    event(e) {
      const text = describe(e)
      if (text) line(`[${fmtMs(Date.now() - started)}] t=${fmtMs(e.atMs)} ${text}`)
    },
    services(stats, atMs) {
      const rows = stats.map((s) => `  ${formatWindow(s, { pad: true })}`)
      const head = `[${fmtMs(Date.now() - started)}] ${phase}, t=${fmtMs(atMs)}`
      if (tty) {
        clear()
        out.write([head, ...rows].join('\n') + '\n')
        drawn = rows.length + 1
      } else if (Date.now() - lastPlain >= 5_000) {
        lastPlain = Date.now()
        out.write([head, ...rows].join('\n') + '\n')
      }
    },
    error(message) {
      line(`outage-lab: ${message}`)
    },
    done() {
      clear()
    },
  }
}
