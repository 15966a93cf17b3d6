// GET /admin/memory: what a service's memory is made of, for a game day that runs for hours.
// `?gc=full` first collects all garbage, so heapUsedBytes is the live heap: a leak grows it, while
// V8 sizing its heap to the load (what resident memory mostly shows in the first minutes) does not.
import v8 from 'node:v8'
import vm from 'node:vm'

export interface MemoryReport {
  rssBytes: number
  heapUsedBytes: number
  heapTotalBytes: number
  externalBytes: number
  arrayBuffersBytes: number
  heapLimitBytes: number
  /** Each V8 heap space (new, old, code, large objects...): what it has committed and what it uses. Which space grows tells heap sizing (new space doubling under load) from a leak (old space's used bytes after a full collection). */
  heapSpaces: Record<string, { sizeBytes: number; usedBytes: number }>
  /** Whether a full collection ran before the figures were read. */
  fullGc: boolean
}

let gc: (() => void) | undefined

/** V8's gc(), without starting every service with --expose-gc: the flag only has to be set when a context is made. */
export function fullGc(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc')
    gc = vm.runInNewContext('gc') as () => void
  }
  gc()
}

export function memoryReport(opts: { fullGc?: boolean } = {}): MemoryReport {
  if (opts.fullGc) fullGc()
  const m = process.memoryUsage()
  return {
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    heapTotalBytes: m.heapTotal,
    externalBytes: m.external,
    arrayBuffersBytes: m.arrayBuffers,
    heapLimitBytes: v8.getHeapStatistics().heap_size_limit,
    heapSpaces: Object.fromEntries(v8.getHeapSpaceStatistics().map((sp) => [sp.space_name, { sizeBytes: sp.space_size, usedBytes: sp.space_used_size }])),
    fullGc: !!opts.fullGc,
  }
}
