// The machine a figure was measured on: a benchmark result without it cannot be compared.
import os from 'node:os'
import fs from 'node:fs'

export interface Machine {
  cores: number
  memTotalGiB: number
  memAvailableGiB: number
  node: string
  date: string
  /** 1, 5 and 15 minute load averages when the benchmark started (others may share the machine). */
  loadavg: [number, number, number]
}

/** MemAvailable from /proc/meminfo in bytes (what the kernel could hand out without swapping). */
export function memAvailableBytes(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))
    if (m) return Number(m[1]) * 1024
  } catch {}
  return os.freemem()
}

export function machine(): Machine {
  const [a, b, c] = os.loadavg().map((n) => +n.toFixed(2))
  return {
    // What `nproc` prints: the CPUs this process may run on.
    cores: os.availableParallelism(),
    memTotalGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    memAvailableGiB: +(memAvailableBytes() / 2 ** 30).toFixed(1),
    node: process.version,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    loadavg: [a, b, c],
  }
}

export function describeMachine(m: Machine): string {
  return `${m.cores} cores (nproc), ${m.memTotalGiB} GiB RAM (${m.memAvailableGiB} GiB available), Node ${m.node}, ${m.date}, load average at start ${m.loadavg.join(' / ')} (1/5/15 min)`
}

export function loadNow(): string {
  return os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ')
}
