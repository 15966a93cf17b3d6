// The topology commands of the CLI: `up` (boot the Kinesis topology and keep it running, with a
// control API), and `scale` / `restart` (talk to that control API through the endpoints file).
// Only registration lives here; each action loads its implementation when it runs, so a usage
// error or --help answers without loading fastify, undici and the backend.
import { Command, Option, InvalidArgumentError } from 'commander'
import { DEFAULT_RESTART_RATE_PER_SEC, MAX_FLEET_SIZE } from '../topology/catalogue.js'
import { DEFAULT_ENDPOINTS_FILE } from './endpoints-file.js'
import { integer, choice, rate, fleetName, platformOptions } from './cli-support.js'
import { DOWNSTREAM, type Downstream } from '../topology/system.js'
import type { UpOptions } from './up.js'

/** --services: a comma-separated list of downstream services, or "none". */
function serviceList(value: string): Downstream[] {
  if (value.trim() === 'none') return []
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const unknown = names.filter((n) => !(DOWNSTREAM as readonly string[]).includes(n))
  if (unknown.length)
    throw new InvalidArgumentError(`unknown service ${unknown.join(', ')}: expected a comma-separated list of ${DOWNSTREAM.join(', ')}, or none`)
  return names as Downstream[]
}

export function registerUp(program: Command, run: (code: Promise<number>) => void): void {
  platformOptions(program.command('up'))
    .description(
      "boot the system (Kinesis: metadata, back-ends, the main front-end fleet, its endpoint; then cognito, cloudwatch, eventbridge, autoscaler, lambda, status-page) and keep it running until Ctrl-C; without flags, the flagship's topology (experiments/kinesis-2020-11-25.yaml)",
    )
    .option('--frontends <n>', "front-ends in the main fleet (default: the flagship's)", integer(1, MAX_FLEET_SIZE))
    .option('--thread-limit <n>', "OS thread limit of each front-end (pids.max; default: the flagship's)", integer(1, 100_000))
    .option('--backends <n>', "back-end (shard storage) processes (default: the flagship's)", integer(1, 64))
    .option(
      '--learn-delay <ms>',
      "upper bound of the seeded delay before a front-end starts a thread for a new peer (default: the flagship's)",
      integer(0, 86_400_000),
    )
    .addOption(
      new Option('--bootstrap <source>', "where a starting front-end builds its shard-map (default: the flagship's)").argParser(
        choice(['peers', 'metadata'] as const),
      ),
    )
    .option('--seed <n>', 'seed for every random choice', integer(0), 1)
    .option('--endpoints-file <file>', 'where to write the service URLs, control API and credentials as JSON', DEFAULT_ENDPOINTS_FILE)
    .option('--run-dir <dir>', 'logs and data of the run (default .outage-lab/runs/<run id>)')
    .option('--control-port <port>', 'port of the control API on 127.0.0.1 (0: any free port)', integer(0, 65535), 0)
    .option('--ready-timeout <ms>', 'how long a front-end may take to become healthy (default 30 s + 2 s per front-end)', integer(1_000, 3_600_000))
    .option('--no-cgroups', 'local platform: do not use pids cgroups (front-ends cap their own threads)')
    .option(
      '--services <list>',
      `downstream services beside Kinesis, comma-separated (${DOWNSTREAM.join(',')}), or "none" (default: the flagship's)`,
      serviceList,
    )
    .option('--cell-size <n>', 'remediation 7: put the main fleet in cells of at most n front-ends', integer(1, MAX_FLEET_SIZE))
    .option('--partitioned-fleet <n>', 'remediation 6: give CloudWatch its own fleet of n front-ends', integer(1, MAX_FLEET_SIZE))
    .action((opts: UpOptions & { backend?: string }) => run(import('./up.js').then((m) => m.up({ ...opts, platform: opts.backend ?? opts.platform }))))
}

export function registerScale(program: Command, run: (code: Promise<number>) => void): void {
  program
    .command('scale')
    .description('scale a fleet of the running topology (`outage-lab up`) to N members')
    .requiredOption('--fleet <name>', 'the fleet', fleetName)
    .requiredOption('--to <n>', 'the new number of members', integer(0, MAX_FLEET_SIZE))
    .option('--endpoints-file <file>', 'the endpoints file of `outage-lab up`', DEFAULT_ENDPOINTS_FILE)
    .option('--json', 'print the result as JSON')
    .action((opts: { fleet: string; to: number; endpointsFile: string; json?: boolean }) => run(import('./remote.js').then((m) => m.scale(opts))))
}

export function registerRestart(program: Command, run: (code: Promise<number>) => void): void {
  program
    .command('restart')
    .description('restart every member of a fleet at a pace (members per second) or all at once; each keeps its id and port')
    .requiredOption('--fleet <name>', 'the fleet', fleetName)
    .option(
      '--rate <r>',
      `members per second, or "all" (default: ${DEFAULT_RESTART_RATE_PER_SEC}, the flagship's paced restart)`,
      rate,
      DEFAULT_RESTART_RATE_PER_SEC,
    )
    .option('--endpoints-file <file>', 'the endpoints file of `outage-lab up`', DEFAULT_ENDPOINTS_FILE)
    .option('--json', 'print the result as JSON')
    .action((opts: { fleet: string; rate: number | 'all'; endpointsFile: string; json?: boolean }) => run(import('./remote.js').then((m) => m.restart(opts))))
}

export function registerEnv(program: Command, run: (code: Promise<number>) => void): void {
  program
    .command('env')
    .description(
      'print the AWS configuration of the running topology (`outage-lab up`) as export lines: eval "$(outage-lab env)" points a shell, the AWS CLI and any SDK at the lab',
    )
    .option('--endpoints-file <file>', 'the endpoints file of `outage-lab up`', DEFAULT_ENDPOINTS_FILE)
    .option('--lab-key', "use the lab's own key rather than the shell's (calls then count with the lab's internal ones)")
    .option('--json', 'print the variables as a JSON object')
    .action((opts: { endpointsFile: string; labKey?: boolean; json?: boolean }) => run(import('./env.js').then((m) => m.envCommand(opts))))
}

export function registerDemo(program: Command, run: (code: Promise<number>) => void): void {
  program
    .command('demo')
    .description(
      'the Kinesis failure end to end: steady traffic, capacity added past the thread limit, every front-end breaks, removal does not help, a paced restart heals',
    )
    .option('--frontends <n>', 'front-ends before the capacity addition', integer(1, MAX_FLEET_SIZE), 4)
    .option('--add <n>', 'front-ends the capacity addition brings', integer(1, MAX_FLEET_SIZE), 6)
    .option('--thread-limit <n>', 'OS thread limit of each front-end (pids.max)', integer(1, 100_000), 18)
    .option('--learn-delay <ms>', 'upper bound of the seeded delay before a front-end learns a new peer', integer(0, 600_000), 3_000)
    .option('--seed <n>', 'seed for every random choice', integer(0), 1)
    .option('--run-dir <dir>', 'logs and data of the run (default .outage-lab/runs/<run id>)')
    .option('--no-cgroups', 'do not use pids cgroups (front-ends cap their own threads)')
    .action((o: { frontends: number; add: number; threadLimit: number; learnDelay: number; seed: number; runDir?: string; cgroups: boolean }) =>
      run(
        import('../demo/kinesis-demo.js').then((m) =>
          m.demo({
            frontends: o.frontends,
            addFrontends: o.add,
            threadLimit: o.threadLimit,
            learnDelay: o.learnDelay,
            seed: o.seed,
            runDir: o.runDir,
            cgroups: o.cgroups,
          }),
        ),
      ),
    )
}

export function registerDown(program: Command, run: (code: Promise<number>) => void): void {
  program
    .command('down')
    .description('stop the topology that `outage-lab up` keeps running')
    .option('--endpoints-file <file>', 'the endpoints file of `outage-lab up`', DEFAULT_ENDPOINTS_FILE)
    .action((opts: { endpointsFile: string }) => run(import('./remote.js').then((m) => m.down(opts))))
}
