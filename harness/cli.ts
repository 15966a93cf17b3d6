#!/usr/bin/env node
// outage-lab: the command line. Each command registers itself here; a command's action hands its
// exit code (as a promise) to run(), so exit codes are decided in one place: 0 ok, 1 failed,
// 2 bad input (naming the option or file), 130 interrupted.
import { Command, CommanderError } from 'commander'
import { registerUp, registerDown, registerScale, registerRestart, registerDemo, registerEnv } from './control/commands.js'
import { EXIT, UsageError } from './control/cli-support.js'
import { registerExperimentCommands } from './run/commands.js'
import { registerStatusPage } from './status-page/post.js'

// The AWS SDK warns once per process on Node < 22 that future releases need Node 22: noise in a
// chaos run's terminal (the pinned SDK works on Node 20).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

const program = new Command('outage-lab')
  .description('reproduce the AWS Kinesis outage of 2020-11-25 with real services on this machine')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })

let pending: Promise<number> | undefined
const run = (code: Promise<number>) => {
  pending = code
}

registerUp(program, run)
registerScale(program, run)
registerRestart(program, run)
registerDown(program, run)
registerEnv(program, run)
registerDemo(program, run)
registerExperimentCommands(program, run)
registerStatusPage(program, run)

for (const cmd of program.commands) cmd.exitOverride()

async function main(): Promise<number> {
  try {
    await program.parseAsync(process.argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.badInput
    }
    throw err
  }
  return pending ? await pending : EXIT.ok
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError) {
      process.stderr.write(`outage-lab: ${err.message}\n`)
      process.exit(EXIT.badInput)
    }
    process.stderr.write(`outage-lab: ${err?.stack ?? err}\n`)
    process.exit(EXIT.failed)
  },
)
