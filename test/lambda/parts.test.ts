// The Lambda host's parts on their own: the simulated host memory, the agent's buffer (against a
// ship function scripted call by call, no network), the spill file on a real disk, and the config.
import t from 'tap'
import { mkdtemp, rm, stat, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { HostMemory } from '../../services/lambda/host-memory.js'
import { SpillFile } from '../../services/lambda/spill.js'
import { MetricsAgent, type InvocationRecord } from '../../services/lambda/agent.js'
import { readConfig } from '../../services/lambda/config.js'

const MiB = 1024 * 1024
const rec = (i: number, logBytes = 1000): InvocationRecord => ({
  functionName: 'echo',
  atMs: 1_606_300_000_000 + i,
  durationMs: 1.5,
  functionError: false,
  log: `log ${i}`.padEnd(logBytes, '.'),
})

async function tempDir(t: any) {
  const dir = await mkdtemp(path.join(tmpdir(), 'lambda-parts-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('host memory: an invocation that does not fit beside the agent buffer is refused, a released one frees its share', async (t) => {
  const memory = new HostMemory(16 * MiB)
  const a = memory.reserve(8 * MiB)
  t.ok(a)
  memory.setAgentBytes(4 * MiB)
  t.equal(memory.reserve(8 * MiB), undefined, '8 + 4 + 8 > 16')
  const b = memory.reserve(4 * MiB)
  t.ok(b, '8 + 4 + 4 fits exactly')
  t.equal(memory.usedBytes, 16 * MiB)
  a!.release()
  a!.release()
  t.equal(memory.reservedBytes, 4 * MiB, 'a double release frees once')
  memory.setAgentBytes(20 * MiB)
  t.equal(memory.usedBytes, 24 * MiB, 'the unbounded agent may go past the budget on paper')
  t.equal(memory.reserve(1), undefined)
})

t.test('unbounded agent: what CloudWatch refuses stays in host memory, in order, and ships once it answers', async (t) => {
  const memory = new HostMemory(64 * MiB)
  const calls: number[][] = []
  let failing = true
  const agent = new MetricsAgent({
    memory,
    flushIntervalMs: 1000,
    ship: async (_ns, datums) => {
      if (failing) throw new Error('InternalFailure')
      calls.push(datums.filter((d) => d.MetricName === 'Invocations').map((d) => d.Timestamp!.getTime() - 1_606_300_000_000))
    },
  })
  for (let i = 0; i < 400; i++) agent.record(rec(i))
  const firstCall = Date.now()
  await agent.flush()
  await agent.flush()
  const held = agent.stats()
  t.ok(held.failingSinceMs! >= firstCall && held.failingSinceMs! <= Date.now(), 'failing since the first failed call was sent')
  t.equal(held.bufferedEntries, 400)
  t.equal(memory.agentBytes, held.bufferBytes, 'the buffer counts in the host budget')
  t.ok(held.bufferBytes > 400 * 1000)
  t.equal(held.flushFailures, 2, 'one failed call stops each flush')
  t.equal(held.consecutiveFailures, 2)
  const since = held.failingSinceMs
  await new Promise((r) => setTimeout(r, 5))
  await agent.flush()
  t.equal(agent.stats().failingSinceMs, since, 'a later failure keeps the start of the run')
  failing = false
  await agent.flush()
  t.same(
    calls.map((c) => c.length),
    [333, 67],
    'at most 1,000 datums (333 entries) per PutMetricData',
  )
  t.same(calls.flat(), [...Array(400).keys()], 'in arrival order')
  t.equal(memory.agentBytes, 0)
  t.equal(agent.stats().datumsShipped, 1200)
  t.equal(agent.stats().failingSinceMs, undefined, 'a shipped batch ends the run of failures')
})

t.test('bounded agent: the overflow spills to disk outside the budget, later entries follow it, replay keeps order', async (t) => {
  const dir = await tempDir(t)
  const spill = await SpillFile.open(path.join(dir, 'spill.ndjson'))
  const memory = new HostMemory(16 * MiB)
  const shipped: number[] = []
  let failing = true
  const agent = new MetricsAgent({
    memory,
    flushIntervalMs: 1000,
    bounded: { maxBytes: 10_000, spill },
    ship: async (_ns, datums) => {
      if (failing) throw new Error('timeout')
      shipped.push(...datums.filter((d) => d.MetricName === 'Invocations').map((d) => d.Timestamp!.getTime() - 1_606_300_000_000))
    },
  })
  for (let i = 0; i < 500; i++) agent.record(rec(i))
  await agent.flush()
  await spill.sync()
  const s = agent.stats()
  t.ok(s.bufferBytes <= 10_000, `memory part capped (${s.bufferBytes})`)
  t.equal(memory.agentBytes, s.bufferBytes, 'only the memory part counts in the budget')
  t.equal(s.bufferedEntries + s.spilledEntries, 500)
  t.equal((await stat(spill.file)).size, s.spilledBytes, 'the spill is on disk')
  failing = false
  await agent.flush()
  t.same(shipped, [...Array(500).keys()], 'every entry shipped once, in arrival order')
  t.equal(agent.stats().spilledBytes, 0)
  t.equal((await stat(spill.file)).size, 0, 'the drained spill is truncated')
  await spill.close()
})

t.test('spill file: a spill left by a previous process is replayed; stop() moves the memory part to disk', async (t) => {
  const dir = await tempDir(t)
  const file = path.join(dir, 'spill.ndjson')
  const first = await SpillFile.open(file)
  const agent = new MetricsAgent({
    memory: new HostMemory(MiB * 16),
    flushIntervalMs: 1000,
    bounded: { maxBytes: 3000, spill: first },
    ship: async () => {
      throw new Error('down')
    },
  })
  for (let i = 0; i < 10; i++) agent.record(rec(i))
  await agent.stop()
  await first.close()
  t.equal((await readFile(file, 'utf8')).trim().split('\n').length, 10, 'all ten entries are on disk after stop()')

  const second = await SpillFile.open(file)
  t.equal(second.entries, 10)
  const { lines, end } = await second.read(4)
  t.equal(lines.length, 4)
  await second.consume(end, lines.length)
  t.equal(second.entries, 6)
  const rest = await second.read(100)
  t.equal(rest.lines.length, 6)
  const at = (l: Buffer) => JSON.parse(l.toString()).at - 1_606_300_000_000
  t.same(
    [...lines, ...rest.lines].map(at).sort((a, b) => a - b),
    [...Array(10).keys()],
    'each entry is read exactly once',
  )
  await second.consume(rest.end, rest.lines.length)
  t.equal((await stat(file)).size, 0)
  await second.close()
})

t.test('config: defaults, and bad values name their variable', async (t) => {
  const cfg = readConfig({ PORT: '0', CLOUDWATCH_URL: 'http://127.0.0.1:4582/' })
  t.equal(cfg.cloudwatchUrl, 'http://127.0.0.1:4582')
  t.equal(cfg.hostMemoryBudgetBytes, 64 * MiB)
  t.equal(cfg.invocationMemoryBytes, 8 * MiB)
  t.equal(cfg.logBytesPerInvocation, 16384)
  t.equal(cfg.agent.bounded, false)
  t.equal(cfg.agent.flushIntervalMs, 500)
  t.equal(cfg.agent.bufferMaxBytes, MiB)
  t.match(cfg.agent.spillFile, /lambda-host-1-agent-spill\.ndjson$/)
  t.throws(() => readConfig({ PORT: '0' }), { message: 'environment variable CLOUDWATCH_URL: expected a non-empty string, got nothing' })
  t.throws(() => readConfig({ PORT: '0', CLOUDWATCH_URL: 'cloudwatch' }), {
    message: 'environment variable CLOUDWATCH_URL: expected an http:// URL, got "cloudwatch"',
  })
  t.throws(() => readConfig({ PORT: '0', CLOUDWATCH_URL: 'http://x', BOUNDED_AGENT_BUFFER: 'maybe' }), {
    message: 'environment variable BOUNDED_AGENT_BUFFER: expected true or false, got "maybe"',
  })
  t.throws(() => readConfig({ PORT: '0', CLOUDWATCH_URL: 'http://x', HOST_MEMORY_BUDGET_MB: '4' }), {
    message: 'environment variable INVOCATION_MEMORY_MB: expected at most HOST_MEMORY_BUDGET_MB (4), got nothing',
  })
  t.throws(
    () =>
      readConfig({
        PORT: '0',
        CLOUDWATCH_URL: 'http://x',
        HOST_MEMORY_BUDGET_MB: '16',
        INVOCATION_MEMORY_MB: '8',
        BOUNDED_AGENT_BUFFER: 'true',
        AGENT_BUFFER_MAX_BYTES: String(9 * MiB),
      }),
    {
      message: `environment variable AGENT_BUFFER_MAX_BYTES: expected at most HOST_MEMORY_BUDGET_MB - INVOCATION_MEMORY_MB (${8 * MiB} bytes) with BOUNDED_AGENT_BUFFER=true, got "${9 * MiB}"`,
    },
  )
})

t.test('a batch CloudWatch refuses as invalid is dropped and counted, not kept forever', async (t) => {
  const { BatchRejected } = await import('../../services/lambda/agent.js')
  const memory = new HostMemory(16 * MiB)
  const rejected: number[] = []
  const agent = new MetricsAgent({
    memory,
    flushIntervalMs: 1000,
    namespace: 'AWS/Lambda',
    ship: async (ns) => {
      throw new BatchRejected('InvalidParameterValueException', `The value ${ns} for parameter Namespace is invalid.`)
    },
    events: { rejected: (n) => rejected.push(n) },
  })
  for (let i = 0; i < 5; i++) agent.record(rec(i))
  await agent.flush()
  t.same(rejected, [15])
  t.equal(agent.stats().datumsRejected, 15)
  t.equal(agent.stats().bufferedEntries, 0)
  t.equal(memory.agentBytes, 0, 'the host memory is given back')
  t.equal(agent.stats().flushFailures, 0, 'a refusal is not an outage')
})
