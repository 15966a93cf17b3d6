// The write path in numbers: how much is appended, how often and how long fsync takes, and how
// well group commit batches (records per fsync); what the retention trims and what stays on disk.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { CommitReport, TrimReport } from './shard-log.js'
import type { ShardStore } from './shard-store.js'

export interface BackendMetrics {
  commit(report: CommitReport): void
  read(records: number): void
  trim(report: TrimReport): void
}

export function backendMetrics(registry: Registry, store: ShardStore): BackendMetrics {
  const registers = [registry]
  const records = new Counter({ name: 'kinesis_backend_records_appended_total', help: 'Records appended and acknowledged', registers })
  const bytes = new Counter({ name: 'kinesis_backend_bytes_appended_total', help: 'Bytes written to shard logs (frames included)', registers })
  const fsyncs = new Counter({ name: 'kinesis_backend_fsyncs_total', help: 'fdatasync calls on shard logs', registers })
  const fsyncSeconds = new Histogram({
    name: 'kinesis_backend_fsync_duration_seconds',
    help: 'Time of one fdatasync of a shard log',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  })
  const groupSize = new Histogram({
    name: 'kinesis_backend_group_commit_records',
    help: 'Records covered by one write+fsync (group commit size)',
    buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    registers,
  })
  const read = new Counter({ name: 'kinesis_backend_records_read_total', help: 'Records returned by GetRecords', registers })
  const trimmedRecords = new Counter({ name: 'kinesis_backend_records_trimmed_total', help: 'Records dropped by the retention', registers })
  const trimmedBytes = new Counter({ name: 'kinesis_backend_bytes_trimmed_total', help: 'Bytes of shard logs dropped by the retention', registers })
  const compactionSeconds = new Histogram({
    name: 'kinesis_backend_compaction_duration_seconds',
    help: 'Time of one trim of a shard log (copy of the retained tail, fsync, rename)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  })
  const compactionHeldSeconds = new Histogram({
    name: 'kinesis_backend_compaction_held_seconds',
    help: 'Time appends to a shard waited for its trim (the last step: copy of what came meanwhile, fsync, rename)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  })
  new Gauge({
    name: 'kinesis_backend_log_bytes',
    help: 'Bytes of the shard logs on disk',
    registers,
    async collect() {
      this.set(await store.logBytes())
    },
  })
  new Gauge({
    name: 'kinesis_backend_shards',
    help: 'Shard logs open on this back-end',
    registers,
    collect() {
      this.set(store.shardCount())
    },
  })
  return {
    commit(r) {
      records.inc(r.records)
      bytes.inc(r.bytes)
      fsyncs.inc()
      fsyncSeconds.observe(r.fsyncSeconds)
      groupSize.observe(r.records)
    },
    read(n) {
      if (n > 0) read.inc(n)
    },
    trim(r) {
      trimmedRecords.inc(r.records)
      trimmedBytes.inc(r.bytes)
      compactionSeconds.observe(r.seconds)
      compactionHeldSeconds.observe(r.heldSeconds)
    },
  }
}
