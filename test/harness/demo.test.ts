// `make run` runs `outage-lab demo` until the flagship experiment exists: it must show the whole
// Kinesis failure for real and exit 0 only when every acknowledged record reads back.
import t from 'tap'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ROOT } from '../helpers/spawn.js'

t.test(
  'the demo breaks every front-end past the thread limit, stays broken after scale-in, heals on a paced restart, and loses no acknowledged record',
  async (t) => {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outage-lab-demo-'))
    t.teardown(() => fs.rmSync(runDir, { recursive: true, force: true }))
    const env = { ...process.env }
    delete env.NODE_OPTIONS
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/harness/cli.js'), 'demo', '--run-dir', runDir, '--learn-delay', '1000'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    t.equal(code, 0, out)
    t.notMatch(out, /NodeVersionSupportWarning/, 'no SDK version warning in the terminal')
    const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'demo-summary.json'), 'utf8'))
    t.same(
      summary.phases.map((p: any) => p.phase),
      ['boot', 'steady', 'trigger', 'outage', 'rollback', 'recovery', 'verify'],
    )
    t.match(summary.phases.find((p: any) => p.phase === 'outage').note, /10 broken/)
    t.match(summary.phases.find((p: any) => p.phase === 'outage').note, /InternalFailure 500/)
    t.match(summary.phases.find((p: any) => p.phase === 'rollback').note, /4 broken/)
    t.match(summary.phases.find((p: any) => p.phase === 'recovery').note, /4 ready; 100% of PutRecords ok/)
    t.ok(summary.acknowledged > 0)
    t.equal(summary.readBack, summary.acknowledged, 'every acknowledged record reads back')
  },
)
