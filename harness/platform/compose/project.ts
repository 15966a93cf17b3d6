// One compose project of a run, as compose itself sees it: its two files (docker-compose.yml and
// the run's override), its profiles and variables, and the three compose calls a run makes:
// create containers (`up --no-start`), start the first wave (`up -d` through testcontainers'
// DockerComposeEnvironment, which then owns `down`), and `down`.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { composeCommand, composeExecutable, type ComposeFlavour } from './engine.js'
import { diesWithParent } from '../dies-with-parent.js'
import type { ComposePlan } from './file.js'
import type { RuntimeClient, StartedComposeEnvironment } from './docker.js'

// Ryuk (testcontainers' reaper) runs from an image no registry here can give us; the platform
// tears down itself. Set before testcontainers reads it (on first use, below).
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true'

// Loaded on first use: the CLI's other commands need not pay for testcontainers.
type TC = typeof import('testcontainers')
let tcModule: Promise<TC> | undefined
const testcontainers = () => (tcModule ??= import('testcontainers'))

export async function runtimeClient(): Promise<RuntimeClient> {
  return (await (await testcontainers()).getContainerRuntimeClient()) as unknown as RuntimeClient
}

export class ComposeProject {
  private started?: StartedComposeEnvironment

  constructor(
    readonly name: string,
    readonly composeFile: string,
    readonly overrideFile: string,
    readonly flavour: ComposeFlavour,
    readonly image: string,
    private readonly plan: () => ComposePlan,
  ) {}

  private options() {
    const plan = this.plan()
    return {
      filePath: path.dirname(this.composeFile),
      files: [this.composeFile, this.overrideFile],
      projectName: this.name,
      composeOptions: plan.profiles.flatMap((p) => ['--profile', p]),
      environment: { ...plan.variables, OUTAGE_LAB_IMAGE: this.image },
      ...composeExecutable(this.flavour),
    }
  }

  /** `up --no-start`: every container named exists (created, not started) when it resolves. */
  create(services: string[], commandOptions: string[]): Promise<void> {
    const o = this.options()
    const [file, ...pre] = composeCommand(this.flavour)
    const args = [
      ...pre,
      '-f',
      this.composeFile,
      '-f',
      this.overrideFile,
      '-p',
      this.name,
      ...o.composeOptions,
      'up',
      '--no-start',
      '--no-deps',
      ...commandOptions,
      ...services,
    ]
    return new Promise((resolve, reject) => {
      // It dies with the harness: a killed harness's create would otherwise go on past the reaper's sweeps.
      const guarded = diesWithParent(file, args)
      const child = spawn(guarded.file, guarded.args, { cwd: o.filePath, env: { ...process.env, ...o.environment }, stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)))
      child.on('error', reject)
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${[file, ...args].join(' ')} failed (exit ${code}): ${stderr.trim()}`))))
    })
  }

  /**
   * `up -d --no-deps` of some services through DockerComposeEnvironment: dependencies were
   * started (and waited on) by earlier waves; its own wait is only for the "listening" log line.
   */
  async up(services: string[]): Promise<void> {
    const tc = await testcontainers()
    const o = this.options()
    const env = new tc.DockerComposeEnvironment(o.filePath, o.files)
      .withProjectName(this.name)
      .withEnvironment(o.environment)
      .withProfiles(...this.plan().profiles)
      .withClientOptions({ ...composeExecutable(this.flavour), commandOptions: ['--no-deps', '--no-recreate'] })
      .withDefaultWaitStrategy(tc.Wait.forLogMessage(/"msg":"listening"/).withStartupTimeout(120_000))
    this.started = (await env.up(services)) as unknown as StartedComposeEnvironment
  }

  /** compose's own `down`: through the environment that started the project, or (a boot that failed before) the same files and project. */
  async down(timeoutMs: number): Promise<void> {
    const down = { timeout: timeoutMs, removeVolumes: true }
    if (this.started) await this.started.down(down)
    else await (await runtimeClient()).compose.down(this.options() as never, down)
  }
}
