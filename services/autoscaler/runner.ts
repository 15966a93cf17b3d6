// Tasks as real child processes: start one (wait for its "listening" line, then for its health
// check), stop one (SIGTERM, SIGKILL if it lingers), and stop them all when the autoscaler closes.
import { spawn, type ChildProcess } from 'node:child_process'
import readline from 'node:readline'
import { request } from 'undici'

export interface RunnerOptions {
  /** The compiled task app (dist/services/autoscaler/task-app.js). */
  entry: string
  /** From spawn to a passing health check; a task slower than this is stopped and replaced. */
  startTimeoutMs: number
}

export interface StartedTask {
  pid: number
  port: number
}

const STOP_GRACE_MS = 2_000
const HEALTH_RETRY_MS = 50

export class TaskRunner {
  readonly #opts: RunnerOptions
  readonly #children = new Map<string, ChildProcess>()

  constructor(opts: RunnerOptions) {
    this.#opts = opts
  }

  get size(): number {
    return this.#children.size
  }

  /** Resolves once the task answers GET /health; onExit fires whenever the process ends (also later). */
  async start(arn: string, serviceName: string, onExit: (code: number | null, signal: string | null) => void): Promise<StartedTask> {
    const child = spawn(process.execPath, [this.#opts.entry], {
      // Only what the task needs: the autoscaler's NODE_OPTIONS (a test's loader) would slow every task.
      env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', TASK_ARN: arn, SERVICE_NAME: serviceName },
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    this.#children.set(arn, child)
    // A spawn that fails (EAGAIN, ENOMEM under a loaded host) emits 'error' and never 'exit'.
    let spawnError: Error | undefined
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#children.delete(arn)
        onExit(code, signal)
        resolve()
      })
      child.once('error', (err) => {
        spawnError = err
        if (child.pid !== undefined) return
        this.#children.delete(arn)
        onExit(null, null)
        resolve()
      })
    })
    const deadline = Date.now() + this.#opts.startTimeoutMs
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`task did not listen within ${this.#opts.startTimeoutMs} ms`)), this.#opts.startTimeoutMs)
        void listeningPort(child).then((p) => {
          clearTimeout(timer)
          resolve(p)
        })
        void exited.then(() => {
          clearTimeout(timer)
          reject(new Error(spawnError ? `task process could not start: ${spawnError.message}` : 'task process exited before listening'))
        })
      })
      while (!(await healthy(port))) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error('task process exited before its health check passed')
        if (Date.now() > deadline) throw new Error(`task health check did not pass within ${this.#opts.startTimeoutMs} ms`)
        await sleep(HEALTH_RETRY_MS)
      }
      return { pid: child.pid!, port }
    } catch (err) {
      await this.stop(arn)
      throw err
    }
  }

  /** Stops a task's process; resolves once it is gone. */
  async stop(arn: string): Promise<void> {
    const child = this.#children.get(arn)
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
    await gone
    clearTimeout(killer)
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#children.keys()].map((arn) => this.stop(arn)))
  }
}

function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const lines = readline.createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      try {
        const rec = JSON.parse(line)
        if (rec.msg === 'listening' && typeof rec.port === 'number') resolve(rec.port)
      } catch {
        // not a log line of ours
      }
    })
  })
}

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await request(`http://127.0.0.1:${port}/health`, { headersTimeout: 1_000, bodyTimeout: 1_000 })
    await res.body.dump()
    return res.statusCode === 200
  } catch {
    return false
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref())
