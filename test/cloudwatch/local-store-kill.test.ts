// Remediation 8's promise under a kill: a CloudWatch with LOCAL_STORE=true keeps accepting
// PutMetricData while Kinesis is broken the 2020 way, and is SIGKILLed three times at seeded
// moments of that outage (2-4 s apart), each time restarted on the same port and data directory. Once Kinesis
// is healed, every datapoint it acknowledged is on the metric stream (each PutMetricData carries
// its own value, so the stream says which ones arrived); a call cut off by a kill may or may not
// have landed, and nothing else does.
import t from 'tap'
import { request } from 'undici'
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch'
import { spawnService, type Spawned } from '../helpers/spawn.js'
import { startKinesisOutage, kinesisOutageSkip } from '../helpers/kinesis-outage.js'
import { cloudWatchClient, datapointsOnStream, scratchDir, SPAWN } from './helpers.js'
import { eventually } from '../helpers/eventually.js'
import { seededRandom } from '../../services/kit/prng.js'

const STREAM = 'cw-kills'
const NAMESPACE = 'Killed'
const KILLS = 3
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function health(url: string): Promise<any> {
  return (await request(`${url}/health`)).body.json()
}

t.test('a local-store CloudWatch SIGKILLed during a Kinesis outage loses no datapoint it acknowledged', { skip: kinesisOutageSkip }, async (t) => {
  t.setTimeout(300_000)
  const kinesis = await startKinesisOutage(t)
  const env = {
    OUTAGE_LAB_WATCH_PARENT: '1',
    KINESIS_ENDPOINT: kinesis.endpoint,
    CLOUDWATCH_STREAM: STREAM,
    CONSUMER_POLL_MS: '100',
    KINESIS_TIMEOUT_MS: '1000',
    KINESIS_MAX_ATTEMPTS: '1',
    OUTAGE_LAB_DATA_DIR: scratchDir(t, 'local'),
    LOCAL_STORE: 'true',
    LOCAL_STORE_RETENTION_MS: '600000',
    LOCAL_STORE_SHIP_RETRY_MS: '500',
  }
  let cw: Spawned = await spawnService('services/cloudwatch/main.js', env, SPAWN)
  t.teardown(() => cw.stop())
  const url = cw.url
  await eventually(async () => (await health(url)).stream_ready, { what: 'the metric stream ready', timeoutMs: 60_000, intervalMs: 100 })
  await kinesis.break()

  const client = cloudWatchClient(url)
  t.teardown(() => client.destroy())
  const acked = new Set<number>()
  const cutOff = new Set<number>()
  let next = 0
  let running = true
  const pump = (async () => {
    const deadline = Date.now() + 240_000
    while (running && Date.now() < deadline) {
      const value = ++next
      try {
        await client.send(new PutMetricDataCommand({ Namespace: NAMESPACE, MetricData: [{ MetricName: 'beat', Value: value }] }))
        acked.add(value)
      } catch {
        cutOff.add(value)
        await sleep(200)
      }
      await sleep(20)
    }
  })()
  t.teardown(() => {
    running = false
    return pump
  })

  const random = seededRandom(20201125)
  for (let k = 1; k <= KILLS; k++) {
    await sleep(2_000 + Math.floor(random() * 2_000))
    const pending = (await health(url)).local_store.pending
    const exited = new Promise((r) => cw.proc.once('exit', r))
    cw.proc.kill('SIGKILL')
    await exited
    cw = await spawnService('services/cloudwatch/main.js', { ...env, PORT: String(cw.port) }, SPAWN)
    const replayed = (await health(url)).local_store.pending
    t.ok(replayed >= pending, `kill ${k}: ${pending} datapoints pending at the kill, ${replayed} after the restart replayed its log`)
  }
  await sleep(1_000)
  running = false
  await pump
  t.ok(acked.size > 0, `${acked.size} datapoints acknowledged during the outage, ${cutOff.size} calls cut off by the kills`)

  await kinesis.heal()
  await eventually(async () => (await health(url)).local_store.pending === 0, {
    what: 'the local store shipped everything',
    timeoutMs: 90_000,
    intervalMs: 250,
  })

  // Each PutMetricData carried its own value: a datapoint's sum says which call it came from.
  const onStream = new Set((await datapointsOnStream(kinesis, STREAM, NAMESPACE)).map((d) => d.sum))
  const lost = [...acked].filter((v) => !onStream.has(v))
  t.same(lost.slice(0, 20), [], `every acknowledged datapoint is on the stream (${acked.size} acknowledged, ${lost.length} lost)`)
  const stray = [...onStream].filter((v) => !acked.has(v) && !cutOff.has(v))
  t.same(stray, [], 'nothing on the stream that was never sent')
  t.comment(
    `${KILLS} kills; ${acked.size} acknowledged, 0 lost; ${[...cutOff].filter((v) => onStream.has(v)).length} of ${cutOff.size} cut-off calls had landed`,
  )
})
