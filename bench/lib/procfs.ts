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

/**
 * Where a Node process's resident memory sits, from /proc/<pid>/smaps, by the shape of each
 * mapping (a reading, not the allocators' own accounts): anonymous 256 KiB mappings are V8's heap
 * pages (every isolate's: the main thread's and each worker's); anonymous mappings that start on a
 * 64 MiB boundary and are at most that large are glibc malloc arenas (one per thread that
 * allocates, up to 8 per core); the program's own file and the rest.
 */
export interface ResidentParts {
  v8PagesBytes: number
  mallocArenasBytes: number
  /** The main arena ([heap]) and anonymous mappings of other sizes (large buffers, stacks). */
  otherAnonymousBytes: number
  fileBytes: number
}

export function residentParts(pid: number): ResidentParts | undefined {
  let text: string
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8')
  } catch {
    return undefined
  }
  const parts: ResidentParts = { v8PagesBytes: 0, mallocArenasBytes: 0, otherAnonymousBytes: 0, fileBytes: 0 }
  let into: keyof ResidentParts = 'otherAnonymousBytes'
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (m) {
      const start = BigInt(`0x${m[1]}`)
      const size = BigInt(`0x${m[2]}`) - start
      const name = m[3].trim()
      if (name.startsWith('/')) into = 'fileBytes'
      else if (name) into = 'otherAnonymousBytes'
      else if (size === 256n * 1024n) into = 'v8PagesBytes'
      else if (start % (64n << 20n) === 0n && size <= 64n << 20n) into = 'mallocArenasBytes'
      else into = 'otherAnonymousBytes'
    } else if (line.startsWith('Rss:')) parts[into] += Number(/(\d+)/.exec(line)![1]) * 1024
  }
  return parts
}
