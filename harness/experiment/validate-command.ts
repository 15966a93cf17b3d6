// `outage-lab validate FILE [--set path=value]... [--seed N]`: loads the experiment exactly as a
// run would, prints what it found, and answers with the exit code (0 valid, 2 invalid).
import { formatDuration } from './duration.js'
import { InvalidExperiment } from './errors.js'
import { loadExperiment } from './loader.js'

export interface ValidateOptions {
  seed?: number
  /** Where the verdict goes (stdout when valid, stderr when not); tests pass their own. */
  out?: (line: string) => void
  err?: (line: string) => void
}

export async function validateCommand(file: string, sets: readonly string[] = [], opts: ValidateOptions = {}): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(l + '\n'))
  const err = opts.err ?? ((l: string) => process.stderr.write(l + '\n'))
  try {
    const e = await loadExperiment(file, { sets, seed: opts.seed })
    const actions = e.method.filter((a) => a.type === 'action').length
    const probes = e.method.length - actions
    const fleets = Object.entries(e.topology.fleets)
      .map(([n, f]) => `${n}: ${f.frontends} front-ends, thread limit ${f.threadLimit}`)
      .join('; ')
    out(`${file}: valid`)
    out(`  ${e.title}`)
    if (e.files.length > 1) out(`  extends ${e.files.slice(1).join(' -> ')}`)
    out(
      `  duration ${formatDuration(e.durationMs)}, seed ${e.seed}, ${actions} action(s) and ${probes} probe(s) in the method, ${e.rollbacks.length} rollback(s)`,
    )
    out(`  fleets ${fleets}; services kinesis, ${e.topology.services.join(', ')}`)
    for (const c of e.topology.customers)
      out(
        `  customer ${c.name}: ${c.command ? `\`${c.command.join(' ')}\` in ${c.cwd}` : 'no command (compose only)'}${c.image ? `, image ${c.image}` : ''}${c.build ? `, build ${c.build}` : ''}; ${c.workload.ratePerSec}/s ${c.workload.method} ${c.workload.path}`,
      )
    return 0
  } catch (e) {
    if (e instanceof InvalidExperiment) {
      for (const line of e.message.split('\n')) err(line)
      return 2
    }
    throw e
  }
}
