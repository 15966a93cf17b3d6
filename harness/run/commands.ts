// The experiment commands of the CLI: validate, run, suite, compare, report. Registration only;
// each action loads its implementation when it runs.
import { Command } from 'commander'
import { integer, integerList, platformOptions } from '../control/cli-support.js'
import type { PlatformName } from '../platform/registry.js'

/** What `run` and `suite` take from their flags. */
export interface RunFlags {
  platform: PlatformName
  /** The older name of --platform; wins when given. */
  backend?: PlatformName
  out?: string
  seed?: number
  set: string[]
  cgroups: boolean
}

const collect = (value: string, previous: string[] = []) => [...previous, value]

export function registerExperimentCommands(program: Command, run: (code: Promise<number>) => void): void {
  program
    .command('validate')
    .description('check an experiment file (and its extends chain) without running anything')
    .argument('<file>', 'experiment YAML')
    .option('--set <path=value>', 'override a field, e.g. topology.fleets.main.threadLimit=40 (repeatable)', collect, [])
    .option('--seed <n>', 'seed for every random choice', integer(0))
    .action((file: string, o: { set: string[]; seed?: number }) =>
      run(import('../experiment/validate-command.js').then((m) => m.validateCommand(file, o.set, { seed: o.seed }))),
    )

  platformOptions(
    program
      .command('run')
      .description(
        'run an experiment: boot the topology, drive customer traffic, apply the method, analyze, write journal.json, timeline.jsonl, summary.md and report.html',
      )
      .argument('<file>', 'experiment YAML'),
  )
    .option('--out <dir>', 'output folder (default runs/<timestamp>-<name>, and runs/latest points there)')
    .option('--seed <n>', 'seed for every random choice (overrides the file)', integer(0))
    .option('--set <path=value>', 'override a field of the experiment (repeatable)', collect, [])
    .option('--no-cgroups', 'local platform: do not use pids cgroups (front-ends cap their own threads)')
    .action((file: string, o: RunFlags) => run(import('./cli-run.js').then((m) => m.runCommand(file, o))))

  platformOptions(
    program
      .command('suite')
      .description('run many experiments one after another and write a comparison (compare.md, compare.html, suite.json)')
      .argument('<paths...>', 'experiment files, or folders of them')
      .requiredOption('--out <dir>', 'folder for the runs and the comparison'),
  )
    .option('--seed <n>', 'seed for every run', integer(0))
    .option('--set <path=value>', 'override a field in every experiment (repeatable)', collect, [])
    .option('--no-cgroups', 'local platform: do not use pids cgroups')
    .action((paths: string[], o: RunFlags & { out: string }) => run(import('./cli-suite.js').then((m) => m.suiteCommand(paths, o))))

  platformOptions(
    program
      .command('repeat')
      .description(
        'run one experiment N times with distinct seeds and write repeat.json, repeat.md and repeat.html (pass rates with Wilson intervals, onset and recovery spreads, cascade orders)',
      )
      .argument('<file>', 'experiment YAML'),
  )
    .requiredOption('--runs <n>', 'how many runs', integer(1, 1000))
    .option('--seeds <list>', 'the seeds, comma-separated (default: the experiment seed and the ones after it)', integerList(0))
    .option('--out <dir>', 'folder for the runs and the summary (default runs/<timestamp>-repeat-<name>); given again, it resumes')
    .option('--seed <n>', 'the first seed (overrides the file)', integer(0))
    .option('--set <path=value>', 'override a field of the experiment (repeatable)', collect, [])
    .option('--no-cgroups', 'local platform: do not use pids cgroups')
    .action((file: string, o: RunFlags & { runs: number; seeds?: number[] }) => run(import('./cli-repeat.js').then((m) => m.repeatCommand(file, o))))

  program
    .command('compare')
    .description('compare two runs: per service impact, onset, recovery; expectations met')
    .argument('<runA>', 'a run folder (or its journal.json)')
    .argument('<runB>', 'another run folder')
    .option('--out <dir>', 'also write compare.md and compare.html there')
    .action((a: string, b: string, o: { out?: string }) => run(import('./cli-suite.js').then((m) => m.compareCommand(a, b, o))))

  program
    .command('report')
    .description('re-render summary.md and report.html of a run from its journal.json and timeline.jsonl')
    .argument('<run>', 'a run folder')
    .action((dir: string) => run(import('./cli-run.js').then((m) => m.reportCommand(dir))))
}
