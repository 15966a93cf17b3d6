// What the kernel says about a process: resident memory and thread count from /proc/<pid>/status.
import fs from 'node:fs'

export interface ProcStatus {
  rssBytes: number
  threads: number
}

export function procStatus(pid: number): ProcStatus | undefined {
  let text: string
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(text)
  const threads = /^Threads:\s+(\d+)/m.exec(text)
  if (!rss || !threads) return undefined
  return { rssBytes: Number(rss[1]) * 1024, threads: Number(threads[1]) }
}

export function median(xs: number[]): number {
  if (!xs.length) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export const MiB = 2 ** 20

/** CPU seconds (user + system) a process has used so far; clock ticks are 100/s on Linux. */
export function cpuSeconds(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return NaN
  }
}
