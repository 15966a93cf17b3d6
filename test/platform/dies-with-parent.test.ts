// A command the harness starts through diesWithParent does not outlive a SIGKILLed harness: the
// boot's `docker-compose create` must not go on creating containers after the reaper swept.
import t from 'tap'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { diesWithParent } from '../../harness/platform/dies-with-parent.js'
import { eventually } from '../helpers/eventually.js'

/** Running: a killed child its new parent has not reaped yet (a zombie) counts as gone. */
const alive = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z'
  } catch {
    return false
  }
}

const guarded = diesWithParent('sleep', ['60'])

t.test(
  'a guarded child is killed with the process that started it',
  { skip: guarded.guarded ? false : 'setpriv --pdeathsig is not available here' },
  async (t) => {
    // A stand-in harness: starts the guarded command, says its pid, and waits to be killed.
    const harness = spawn(
      process.execPath,
      [
        '-e',
        `const c = require('node:child_process').spawn(${JSON.stringify(guarded.file)}, ${JSON.stringify(guarded.args)}, { stdio: 'ignore' }); c.on('spawn', () => console.log(c.pid)); setInterval(() => {}, 1000)`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    const childPid = await new Promise<number>((resolve) => harness.stdout.once('data', (d) => resolve(Number(String(d).trim()))))
    t.ok(alive(childPid), 'the command runs while its harness does')
    harness.kill('SIGKILL')
    await eventually(() => !alive(childPid), { timeoutMs: 5_000, what: `pid ${childPid} to be gone after its harness was SIGKILLed` })
    t.notOk(alive(childPid), 'gone once the harness was SIGKILLed')
  },
)

t.test('the command itself is unchanged: setpriv runs it, or it runs as is', async (t) => {
  if (guarded.guarded) t.same([guarded.file, ...guarded.args], ['setpriv', '--pdeathsig', 'KILL', '--', 'sleep', '60'])
  else t.same([guarded.file, ...guarded.args], ['sleep', '60'])
})
