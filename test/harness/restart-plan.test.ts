// How a fleet restart is paced: all at once, at a rate, or at a rate that also waits for each
// member's shard-map to settle (a rolling restart). Fake members, real timers.
import t from 'tap'
import { runRestart, checkRestartOptions, brokenRestartRule, isRestartRate } from '../../harness/topology/restart-plan.js'
import type { WaitOutcome } from '../../harness/platform/readiness.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function fleet(restartMs: number, settleMs: number) {
  const log: string[] = []
  const t0 = Date.now()
  const at = () => Math.round((Date.now() - t0) / 10) * 10
  return {
    log,
    steps: {
      members: ['a', 'b', 'c'],
      async restart(m: string): Promise<WaitOutcome> {
        log.push(`${m} restart ${at()}`)
        await sleep(restartMs)
        return { ready: true, body: {} }
      },
      async settled(m: string): Promise<WaitOutcome> {
        await sleep(settleMs)
        log.push(`${m} settled ${at()}`)
        return { ready: true, body: {} }
      },
      stopping: () => false,
    },
  }
}

const starts = (log: string[]) => log.filter((l) => l.includes('restart')).map((l) => Number(l.split(' ')[2]))

t.test('all at once: every member restarts together, nobody waits for a map', async (t) => {
  const f = fleet(50, 1000)
  const out = await runRestart({ all: true }, f.steps)
  t.equal(out.length, 3)
  t.ok(
    starts(f.log).every((ms) => ms < 150),
    `all started at once (${f.log.join(', ')})`,
  )
  t.notOk(f.log.some((l) => l.includes('settled')))
})

t.test('at a rate: a restart begins every 1000/rate ms whatever the previous one is doing', async (t) => {
  const f = fleet(400, 1000)
  await runRestart({ ratePerSec: 10 }, f.steps)
  const s = starts(f.log)
  t.ok(s[1] >= 90 && s[1] < 380 && s[2] >= 190 && s[2] < 400, `every 100 ms (${s.join(', ')})`)
})

t.test('at a rate with waitReady: the next member waits until the previous map settled', async (t) => {
  const f = fleet(50, 200)
  await runRestart({ ratePerSec: 100, waitReady: true }, f.steps)
  t.same(
    f.log.map((l) => l.split(' ').slice(0, 2).join(' ')),
    ['a restart', 'a settled', 'b restart', 'b settled', 'c restart', 'c settled'],
    'one at a time',
  )
  const s = starts(f.log)
  t.ok(s[1] >= 240 && s[2] >= 490, `each start after the previous settle (${f.log.join(', ')})`)
})

t.test('bad combinations are refused before anything restarts', async (t) => {
  t.throws(() => checkRestartOptions({}), /either a rate \(members per second\) or all at once/)
  t.throws(() => checkRestartOptions({ all: true, ratePerSec: 1 }), /either a rate/)
  t.throws(() => checkRestartOptions({ ratePerSec: 0 }), /expected a positive number of members per second, got 0/)
  t.throws(() => checkRestartOptions({ all: true, waitReady: true }), /waitReady goes with a rate/)
})

t.test('one restart rule for the validator and every platform: a rate or all at once, waitReady only with a rate', async (t) => {
  t.equal(brokenRestartRule({ rate: true, all: false, waitReady: false }), undefined)
  t.equal(brokenRestartRule({ rate: true, all: false, waitReady: true }), undefined)
  t.equal(brokenRestartRule({ rate: false, all: true, waitReady: false }), undefined)
  t.equal(brokenRestartRule({ rate: true, all: true, waitReady: false }), 'both')
  t.equal(brokenRestartRule({ rate: false, all: false, waitReady: true }), 'neither')
  t.equal(brokenRestartRule({ rate: false, all: true, waitReady: true }), 'waitReady-with-all')
  t.ok(isRestartRate(0.5))
  for (const bad of [0, -1, Number.POSITIVE_INFINITY, Number.NaN, '1', undefined]) t.notOk(isRestartRate(bad), `not a rate: ${String(bad)}`)
})
