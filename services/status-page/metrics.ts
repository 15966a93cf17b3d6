// status_page_* metrics: what the harness reads to time the first public update on each path.
import { Counter, Gauge, type Registry } from 'prom-client'
import type { UpdateLog, PostingPath } from './updates.js'
import type { FailureReason } from './errors.js'

export interface StatusPageMetrics {
  posted(path: PostingPath, atMs: number): void
  failed(path: PostingPath, reason: FailureReason): void
  pageViewed(): void
}

export function statusPageMetrics(registry: Registry, log: UpdateLog): StatusPageMetrics {
  const updates = new Counter({
    name: 'status_page_updates_total',
    help: 'updates posted since start, by posting path',
    labelNames: ['path'],
    registers: [registry],
  })
  const failures = new Counter({
    name: 'status_page_post_failures_total',
    help: 'posts refused, by posting path and reason',
    labelNames: ['path', 'reason'],
    registers: [registry],
  })
  const views = new Counter({ name: 'status_page_page_views_total', help: 'HTML page views', registers: [registry] })
  const last = new Gauge({ name: 'status_page_last_update_timestamp_seconds', help: 'when the newest update was posted (0: none yet)', registers: [registry] })
  new Gauge({
    name: 'status_page_updates',
    help: 'updates on the page (including those loaded from disk)',
    registers: [registry],
    collect() {
      this.set(log.size)
    },
  })
  for (const path of ['primary', 'backup']) updates.inc({ path }, 0)
  last.set((log.last()?.postedAtMs ?? 0) / 1000)
  return {
    posted(path, atMs) {
      updates.inc({ path })
      last.set(atMs / 1000)
    },
    failed(path, reason) {
      failures.inc({ path, reason })
    },
    pageViewed() {
      views.inc()
    },
  }
}
