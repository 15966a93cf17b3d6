// GET /admin/memory: what a service's memory is made of, for a game day that runs for hours.
// `?gc=full` first collects all garbage, so heapUsedBytes is the live heap: a leak grows it, while
// V8 sizing its heap to the load (what resident memory mostly shows in the first minutes) does not.
// A service with worker threads adds their isolates' heaps as parts of its own (Service.addMemoryPart):
// each worker has a heap of its own, which the process's figures do not show.
import v8 from 'node:v8'
import vm from 'node:vm'

/** One V8 isolate's heap: the main thread's, or a worker thread's. */
export interface HeapReport {
  heapUsedBytes: number
  heapTotalBytes: number
  heapLimitBytes: number
  /** Memory outside the heap that V8 was told objects hold (Buffers, typed arrays). */
  externalBytes: number
  /** What V8 itself allocated with malloc (its own bookkeeping, not the JavaScript heap). */
  mallocedBytes: number
  /** Each V8 heap space (new, old, code, large objects...): what it has committed and what it uses. Which space grows tells heap sizing (new space doubling under load) from a leak (old space's used bytes after a full collection). */
  heapSpaces: Record<string, { sizeBytes: number; usedBytes: number }>
  /** Whether a full collection ran before the figures were read. */
  fullGc: boolean
}

export interface MemoryReport extends HeapReport {
  rssBytes: number
  arrayBuffersBytes: number
  /** Parts a service added: peerThreads, on a Kinesis front-end. */
  [part: string]: unknown
}

let gc: (() => void) | undefined

/** V8's gc() on the calling thread's isolate, without starting every service with --expose-gc: the flag only has to be set when a context is made. */
export function fullGc(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc')
    gc = vm.runInNewContext('gc') as () => void
  }
  gc()
}

let workerFlagsCleared = false

/**
 * V8's flags belong to the process, and a worker isolate reads them when it is made: the semi-space
 * flags that pin the main thread's young generation (serviceNodeFlags) override a worker's
 * resourceLimits, and would give every worker 16 MiB semi-spaces it fills slowly, page by page.
 * Cleared once the main isolate has its heap (which keeps its own sizes), before the first worker.
 */
export function leaveWorkersTheirResourceLimits(): void {
  if (workerFlagsCleared) return
  workerFlagsCleared = true
  v8.setFlagsFromString('--min-semi-space-size=0')
  v8.setFlagsFromString('--max-semi-space-size=0')
}

/** The calling thread's isolate. */
export function heapReport(opts: { fullGc?: boolean } = {}): HeapReport {
  if (opts.fullGc) fullGc()
  const h = v8.getHeapStatistics()
  return {
    heapUsedBytes: h.used_heap_size,
    heapTotalBytes: h.total_heap_size,
    heapLimitBytes: h.heap_size_limit,
    externalBytes: h.external_memory,
    mallocedBytes: h.malloced_memory,
    heapSpaces: Object.fromEntries(v8.getHeapSpaceStatistics().map((sp) => [sp.space_name, { sizeBytes: sp.space_size, usedBytes: sp.space_used_size }])),
    fullGc: !!opts.fullGc,
  }
}

export function memoryReport(opts: { fullGc?: boolean } = {}): MemoryReport {
  const heap = heapReport(opts)
  const m = process.memoryUsage()
  return { rssBytes: m.rss, ...heap, externalBytes: m.external, arrayBuffersBytes: m.arrayBuffers }
}
