// The CBOR 1.1 path against the codec the Java SDK v2 and the KCL use: Jackson's CBORGenerator and
// CBORParser (Debian's libjackson2-dataformat-cbor), driven by JacksonCbor.java the way the SDK drives
// them. Jackson writes the requests (java-cbor.ts must build the same bytes), the front-end answers,
// and Jackson reads the answer as the SDK's unmarshaller does: Data as binary, the arrival time's text
// with Long.parseLong. The AWS SDK for Java itself is not installed here (no Maven repository is
// reachable); this is the part of it that touches the bytes.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { buildApp } from '../../services/kinesis/frontend/app.js'
import { KEYS, ShardMapDouble, StorageDouble } from './frontend-doubles.js'
import { javaArray, javaInstant, javaObject, type Encoded } from './java-cbor.js'
import { signed } from '../kit/signing.js'

const exec = promisify(execFile)
const HERE = path.dirname(fileURLToPath(import.meta.url))
const JARS = ['/usr/share/java/jackson-core.jar', '/usr/share/java/jackson-dataformat-cbor.jar']

async function javac(): Promise<string | false> {
  try {
    await exec('javac', ['-version'], { timeout: 30_000 })
  } catch {
    return 'no JDK (javac) here'
  }
  const absent = JARS.filter((j) => !fs.existsSync(j))
  return absent.length ? `Jackson's CBOR jars are not here (${absent.join(', ')}): apt-get install libjackson2-dataformat-cbor` : false
}

const skip = await javac()

t.test("Jackson, as the Java SDK drives it, writes the fixtures' bytes and reads the front-end's answers", { skip }, async (t) => {
  const classes = t.testdir()
  const classpath = [classes, ...JARS].join(':')
  await exec('javac', ['-cp', JARS.join(':'), '-d', classes, path.join(HERE, 'JacksonCbor.java')], { timeout: 120_000 })
  const java = async (...args: string[]) => (await exec('java', ['-cp', classpath, 'JacksonCbor', ...args], { timeout: 120_000 })).stdout.trim()

  const atMs = Date.now() - 5_000
  const written = Object.fromEntries(
    (await java('write', String(atMs))).split('\n').map((line) => {
      const [op, hex] = line.split(' ')
      return [op, Buffer.from(hex, 'hex')]
    }),
  ) as Record<string, Buffer>
  const fixtures: Record<string, Encoded> = {
    PutRecord: javaObject([
      ['StreamName', 'orders'],
      ['Data', Buffer.from([0, 1, 2, 255])],
      ['PartitionKey', 'user-1'],
    ]),
    PutRecords: javaObject([
      [
        'Records',
        javaArray([
          javaObject([
            ['Data', Buffer.from('second')],
            ['PartitionKey', 'user-1'],
          ]),
        ]),
      ],
      ['StreamName', 'orders'],
    ]),
    GetShardIterator: javaObject([
      ['StreamName', 'orders'],
      ['ShardId', 'shardId-000000000000'],
      ['ShardIteratorType', 'AT_TIMESTAMP'],
      ['Timestamp', javaInstant(atMs)],
    ]),
    GetRecords: javaObject([
      ['ShardIterator', 'iterator'],
      ['Limit', 10000],
    ]),
  }
  for (const [op, fixture] of Object.entries(fixtures))
    t.equal(fixture.bytes.toString('hex'), written[op].toString('hex'), `${op}: java-cbor.ts builds Jackson's bytes`)

  const storage = await new StorageDouble('backend-0').start()
  t.teardown(() => storage.close())
  const shardMap = new ShardMapDouble()
  shardMap.backends.set(storage.owner, storage.url)
  shardMap.source = () => [...storage.streams.values()]
  const app = buildApp({ shardMap, keys: KEYS, metadataUrl: storage.url, throttle: false, logger: false })
  t.teardown(() => app.close())
  const call = async (operation: string, body: Buffer) => {
    const headers = { 'content-type': 'application/x-amz-cbor-1.1', 'x-amz-target': `Kinesis_20131202.${operation}` }
    const res = await app.inject(await signed({ service: 'kinesis', headers, body }))
    t.equal(res.statusCode, 200, `${operation} answered`)
    return res.rawPayload
  }
  await call(
    'CreateStream',
    javaObject([
      ['StreamName', 'orders'],
      ['ShardCount', 1],
    ]).bytes,
  )
  await call('PutRecord', written.PutRecord)
  await call('PutRecords', written.PutRecords)
  const iterator = await call('GetShardIterator', written.GetShardIterator)
  // The iterator's text, read out of the answer with Jackson too.
  const it = JSON.parse(await java('read', iterator.toString('hex'))) as { records: unknown[] }
  t.same(it.records, [], 'an answer without records reads as none')
  const { Decoder } = await import('cbor-x')
  const shardIterator = new Decoder({ useRecords: false }).decode(iterator).ShardIterator as string
  const answer = await call('GetRecords', javaObject([['ShardIterator', shardIterator]]).bytes)
  const read = JSON.parse(await java('read', answer.toString('hex'))) as { records: Array<{ data: string; arrivalMillis: number }> }
  t.same(
    read.records.map((r) => r.data),
    [Buffer.from([0, 1, 2, 255]).toString('base64'), Buffer.from('second').toString('base64')],
    'Jackson reads Data as the bytes that were put',
  )
  for (const r of read.records) t.ok(r.arrivalMillis >= atMs && r.arrivalMillis <= Date.now(), 'and the arrival time as a long of epoch milliseconds')
})
