// What the back-end's retention costs: the time of one trim (compaction) of a shard log, by the
// size of its retained tail, how long appends were held (its last step), and how long an append
// queued when it began waited for its answer.
//
//   npx tsc -p . && node dist/bench/backend-compaction.js [--mb 8,64] [--bytes 1000]
//
// Each size: a log with as many expired as retained bytes (records of --bytes), trimmed once
// while one append is queued. Prints one line per size; the logs go in a temporary directory.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { ShardLog } from '../services/kinesis/backend/shard-log.js'

const args = new Map<string, string>()
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1])
const sizesMb = (args.get('mb') ?? '8,64').split(',').map(Number)
const bytes = Number(args.get('bytes') ?? 1000)
const BATCH = 500

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outage-lab-bench-compaction-'))
try {
  for (const mb of sizesMb) {
    const clock = { ms: 1_700_000_000_000 }
    const { log } = await ShardLog.open(path.join(dir, `shard-${mb}.log`), 0, { create: true, now: () => clock.ms })
    const batch = Array.from({ length: BATCH }, (_, i) => ({ data: randomBytes(bytes).toString('base64'), partitionKey: `pk-${i}` }))
    const fill = async () => {
      const target = log.bytes + mb * 1024 * 1024
      while (log.bytes < target) await log.append(batch)
    }
    await fill() // expired
    clock.ms += 10_000
    await fill() // retained
    clock.ms += 1
    const before = log.bytes
    const trim = log.trimBefore(clock.ms - 5_000)
    const t0 = performance.now()
    const append = log.append(batch.slice(0, 1)).then(() => performance.now() - t0)
    const report = (await trim)!
    const appendMs = await append
    console.log(
      `retained ${(report.retainedBytes / 2 ** 20).toFixed(1)} MiB (${log.count - 1} records), trimmed ${(report.bytes / 2 ** 20).toFixed(1)} MiB of ${(before / 2 ** 20).toFixed(1)}: ` +
        `compaction ${(report.seconds * 1000).toFixed(1)} ms (${(report.retainedBytes / 2 ** 20 / report.seconds).toFixed(0)} MiB/s), appends held ${(report.heldSeconds * 1000).toFixed(1)} ms, ` +
        `one queued as it began answered after ${appendMs.toFixed(1)} ms`,
    )
    await log.close()
  }
} finally {
  await fs.rm(dir, { recursive: true, force: true })
}
