// A child the harness starts to change the engine's state (compose's `create`) must not go on
// after the harness is killed: a SIGKILLed harness cannot stop it, and what it creates after the
// reaper swept would outlive the run. Linux delivers a signal to a child when its parent dies
// (PR_SET_PDEATHSIG), kept across exec; util-linux's setpriv sets it for the command it runs.
// Where setpriv (or its --pdeathsig) is missing, the command runs as is and the reaper's sweeps
// are what is left.
import { spawnSync } from 'node:child_process'

let supported: boolean | undefined

function setprivHasPdeathsig(): boolean {
  if (supported === undefined) {
    const r = spawnSync('setpriv', ['--help'], { encoding: 'utf8', timeout: 5_000 })
    supported = process.platform === 'linux' && r.status === 0 && /--pdeathsig/.test(r.stdout)
  }
  return supported
}

/** The command and args that run `file args` so it is SIGKILLed when this process dies (as is where that cannot be arranged). */
export function diesWithParent(file: string, args: string[]): { file: string; args: string[]; guarded: boolean } {
  if (!setprivHasPdeathsig()) return { file, args, guarded: false }
  return { file: 'setpriv', args: ['--pdeathsig', 'KILL', '--', file, ...args], guarded: true }
}
