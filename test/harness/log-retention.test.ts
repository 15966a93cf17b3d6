import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { ServiceProcess } from '../../harness/platform/local/process.js'
import { LogRetention } from '../../harness/platform/local/log-retention.js'

// A service that logs for as long as it runs, one numbered line at a time, through the same
// ServiceProcess (stdout straight into the file) the local platform runs services with.
const CHATTY = `let n = 0; setInterval(() => { for (let i = 0; i < 50; i++) process.stdout.write(JSON.stringify({ n: n++, msg: 'x'.repeat(100) }) + '\\n') }, 5)`

const lines = (file: string) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).n as number)

t.test('a service that logs all day keeps at most two generations of its log, and its newest lines', async (t) => {
  const dir = t.testdir({})
  const logFile = path.join(dir, 'chatty.log')
  const proc = new ServiceProcess({ name: 'chatty', argv: [process.execPath, '-e', CHATTY], env: { PATH: process.env.PATH ?? '' }, cwd: dir, logFile })
  t.teardown(async () => {
    proc.signal('SIGKILL')
    await proc.exited
  })
  const retention = new LogRetention(dir, { maxBytes: 64 * 1024 })
  let cuts = 0
  let largest = 0
  const until = Date.now() + 3_000
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50))
    largest = Math.max(largest, fs.statSync(logFile).size)
    cuts += retention.check().length
  }
  // The last check may have just cut the live log: let the service write again before freezing it.
  for (let waited = 0; fs.statSync(logFile).size < 1024 && waited < 5_000; waited += 20) await new Promise((r) => setTimeout(r, 20))
  proc.signal('SIGSTOP')
  await new Promise((r) => setTimeout(r, 50))
  t.ok(cuts >= 3, `the log was cut ${cuts} times in 3 s`)
  t.ok(largest < 64 * 1024 * 3, `the live log never held more than a few checks' worth (largest ${largest} bytes)`)
  const older = lines(`${logFile}.1`)
  const newer = lines(logFile)
  t.ok(older.length > 0 && newer.length > 0, 'both generations hold lines')
  // O_APPEND: after the cut the service writes at the new end, not at its old offset past a hole.
  t.notOk(fs.readFileSync(logFile).includes(0), 'the live log has no hole of zeros')
  const all = [...older, ...newer]
  t.ok(
    all.every((n, i) => i === 0 || n > all[i - 1]),
    'the lines kept are in order across the two generations',
  )
  t.equal(retention.rotations, cuts)
})

t.test('logs under the bound are left alone, and a bound below 1 KiB is refused', async (t) => {
  const dir = t.testdir({ 'a.log': 'one line\n', 'notes.txt': 'x'.repeat(4096) })
  const retention = new LogRetention(dir, { maxBytes: 1024 })
  t.same(retention.check(), [])
  t.notOk(fs.existsSync(path.join(dir, 'a.log.1')))
  t.throws(() => new LogRetention(dir, { maxBytes: 10 }), /maxBytes must be at least 1024/)
})
