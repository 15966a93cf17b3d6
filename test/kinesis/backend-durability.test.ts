// The back-end's promise: an append is answered only after the fsync that covers it, so a
// SIGKILL at any moment loses nothing that was acknowledged. This runs the compiled back-end as
// a real process under concurrent writers, kills it mid-load, restarts it on the same data
// directory and reads everything back.
import t from 'tap'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { Pool } from 'undici'
import { INTERNAL, spawnService } from '../helpers/spawn.js'

const ENTRY = 'services/kinesis/backend/main.js'
const WRITERS = 8
const BATCHES_PER_WRITER = 300
const RECORDS_PER_BATCH = 25
const KILL_AFTER_ACKED_BATCHES = 600
const SHARDS = ['shardId-000000000000', 'shardId-000000000001']
const STREAM = 'durable'

interface Sent {
  data: string
  partitionKey: string
}
interface Acked extends Sent {
  sequenceNumber: string
  writer: number
}

async function call(pool: Pool, p: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await pool.request({ path: p, method: 'POST', headers: { ...INTERNAL, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const text = await res.body.text()
  return { status: res.statusCode, body: JSON.parse(text) }
}

async function readShard(pool: Pool, shardId: string): Promise<any[]> {
  const it = await call(pool, '/iterators', { stream: STREAM, shardId, type: 'TRIM_HORIZON' })
  if (it.status !== 200) throw new Error(`GetShardIterator answered ${it.status}: ${JSON.stringify(it.body)}`)
  let iterator = it.body.shardIterator
  const out: any[] = []
  for (;;) {
    const page = await call(pool, '/records/get', { shardIterator: iterator, limit: 10_000 })
    if (page.status !== 200) throw new Error(`GetRecords answered ${page.status}: ${JSON.stringify(page.body)}`)
    out.push(...page.body.records)
    iterator = page.body.nextShardIterator
    if (page.body.records.length === 0) return out
  }
}

t.test('a back-end killed mid-batch loses no acknowledged record', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outage-lab-durability-'))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  const env = { BACKEND_ID: 'backend-d', ITERATOR_SECRET: 'durability-secret', OUTAGE_LAB_DATA_DIR: dir }

  const first = await spawnService(ENTRY, env)
  t.teardown(() => first.stop('SIGKILL'))
  const pool = new Pool(first.url, { connections: WRITERS })
  t.teardown(() => pool.destroy())

  const sent = new Map<string, Sent>() // data -> what was sent, for every record ever sent
  const acked = new Map<string, Acked[]>(SHARDS.map((s) => [s, []]))
  let ackedBatches = 0
  let inFlight = 0
  let inFlightAtKill = -1
  let failedBatches = 0

  const writer = async (w: number) => {
    const shardId = SHARDS[w % SHARDS.length]
    for (let b = 0; b < BATCHES_PER_WRITER && inFlightAtKill < 0; b++) {
      const records: Sent[] = Array.from({ length: RECORDS_PER_BATCH }, (_, i) => {
        // 100 bytes: a readable tag, then random bytes so no two records are alike.
        const tag = Buffer.from(`w${w}-b${b}-r${i}:`)
        const data = Buffer.concat([tag, randomBytes(100 - tag.length)]).toString('base64')
        return { data, partitionKey: `pk-${w}-${i}` }
      })
      for (const r of records) sent.set(r.data, r)
      inFlight++
      let res: { status: number; body: any }
      try {
        res = await call(pool, `/shards/${STREAM}/${shardId}/records`, { records })
      } catch {
        failedBatches++
        return // the back-end is gone: this batch was never acknowledged
      } finally {
        inFlight--
      }
      if (res.status !== 200) throw new Error(`append answered ${res.status}: ${JSON.stringify(res.body)}`)
      records.forEach((r, i) => acked.get(shardId)!.push({ ...r, sequenceNumber: res.body.records[i].sequenceNumber, writer: w }))
      if (++ackedBatches === KILL_AFTER_ACKED_BATCHES) {
        // The other writers' batches are in the air right now.
        inFlightAtKill = inFlight
        first.proc.kill('SIGKILL')
      }
    }
  }
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)))
  await first.stop('SIGKILL')
  t.equal(first.proc.signalCode, 'SIGKILL', 'the back-end died by SIGKILL')
  t.ok(inFlightAtKill > 0, `killed with ${inFlightAtKill} batches in flight`)
  const ackedRecords = [...acked.values()].reduce((n, a) => n + a.length, 0)
  t.ok(
    ackedBatches >= KILL_AFTER_ACKED_BATCHES && ackedBatches < WRITERS * BATCHES_PER_WRITER,
    `killed mid-load: ${ackedBatches} batches acknowledged, ${failedBatches} cut off`,
  )
  await pool.destroy()

  const second = await spawnService(ENTRY, env)
  t.teardown(() => second.stop('SIGKILL'))
  const pool2 = new Pool(second.url, { connections: 2 })
  t.teardown(() => pool2.destroy())

  let survivedUnacked = 0
  for (const shardId of SHARDS) {
    const read = await readShard(pool2, shardId)
    const problems: string[] = []
    for (let i = 1; i < read.length; i++) {
      if (!(read[i].sequenceNumber > read[i - 1].sequenceNumber))
        problems.push(`sequence ${read[i].sequenceNumber} at ${i} does not follow ${read[i - 1].sequenceNumber}`)
    }
    const position = new Map<string, number>()
    read.forEach((r, i) => {
      if (!/^\d{56}$/.test(r.sequenceNumber)) problems.push(`malformed sequence number ${r.sequenceNumber}`)
      const original = sent.get(r.data)
      if (!original) problems.push(`record ${r.sequenceNumber} holds data nobody sent`)
      else if (original.partitionKey !== r.partitionKey)
        problems.push(`record ${r.sequenceNumber} has partition key ${r.partitionKey}, sent ${original.partitionKey}`)
      if (position.has(r.data)) problems.push(`data of ${r.sequenceNumber} stored twice`)
      position.set(r.sequenceNumber, i)
      position.set(r.data, i)
    })
    const lastPositionOfWriter = new Map<number, number>()
    for (const a of acked.get(shardId)!) {
      const i = position.get(a.sequenceNumber)
      if (i === undefined) {
        problems.push(`acknowledged ${a.sequenceNumber} is missing`)
        continue
      }
      if (read[i].data !== a.data) problems.push(`acknowledged ${a.sequenceNumber} came back with other data`)
      if (i <= (lastPositionOfWriter.get(a.writer) ?? -1)) problems.push(`writer ${a.writer}'s ${a.sequenceNumber} is out of order`)
      lastPositionOfWriter.set(a.writer, i)
    }
    t.same(
      problems.slice(0, 20),
      [],
      `${shardId}: every acknowledged record read back in order with its data (${acked.get(shardId)!.length} acknowledged, ${read.length} stored)`,
    )
    t.ok(read.length >= acked.get(shardId)!.length)
    survivedUnacked += read.length - acked.get(shardId)!.length

    const lastBefore = read.length ? read[read.length - 1].sequenceNumber : ''
    const after = await call(pool2, `/shards/${STREAM}/${shardId}/records`, {
      records: [{ data: Buffer.from('after restart').toString('base64'), partitionKey: 'k' }],
    })
    t.equal(after.status, 200)
    t.ok(after.body.records[0].sequenceNumber > lastBefore, `${shardId}: a write after the restart gets a higher sequence number`)
  }
  t.comment(`${ackedRecords} acknowledged records, ${survivedUnacked} unacknowledged ones reached the disk before the kill`)
})
