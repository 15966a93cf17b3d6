// Starts a compiled service (dist/) as a real child process on a free port and waits for its
// "listening" log line. Tests use it to run the real thing; every process is killed at teardown.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import readline from 'node:readline'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const ADMIN_TOKEN = 'test-admin-token'
export const CREDENTIALS = { accessKeyId: 'AKIDOUTAGELAB', secretAccessKey: 'outage-lab-secret' }
/**
 * OUTAGE_LAB_INTERNAL_TOKEN of every spawned service, as a platform sets one per run: services call
 * each other's internal routes with it, and a test reading /metrics or metadata sends INTERNAL.
 */
export const INTERNAL_TOKEN = 'test-internal-token-0123456789abcdef'
export const INTERNAL = { 'x-outage-lab-internal': INTERNAL_TOKEN }

export interface Spawned {
  url: string
  port: number
  proc: ChildProcess
  /** Log lines (parsed JSON) seen so far. */
  logs: any[]
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** entry: path under dist/, e.g. "services/kinesis/metadata/main.js". */
export async function spawnService(
  entry: string,
  env: Record<string, string>,
  opts: { timeoutMs?: number; wrap?: (argv: string[]) => string[] } = {},
): Promise<Spawned> {
  const argv = [process.execPath, path.join(ROOT, 'dist', entry)]
  const [cmd, ...args] = opts.wrap ? opts.wrap(argv) : argv
  const proc = spawn(cmd, args, {
    cwd: ROOT,
    // Only PATH is inherited: tap's NODE_OPTIONS (a coverage loader) would add a thread to every
    // child and skew thread counts.
    env: { PATH: process.env.PATH, PORT: '0', OUTAGE_LAB_ADMIN_TOKEN: ADMIN_TOKEN, OUTAGE_LAB_INTERNAL_TOKEN: INTERNAL_TOKEN, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: any[] = []
  let stderr = ''
  proc.stderr!.on('data', (d) => (stderr += d))
  const lines = readline.createInterface({ input: proc.stdout! })
  const port = await new Promise<number>((resolve, reject) => {
    // A child that never says where it listens is killed, not left behind.
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`${entry} did not log "listening" within ${opts.timeoutMs ?? 60000} ms (LOG_LEVEL must be info or lower); stderr: ${stderr}`))
    }, opts.timeoutMs ?? 60_000)
    proc.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${entry} exited with ${code} before listening; stderr: ${stderr}`))
    })
    lines.on('line', (line) => {
      let rec: any
      try {
        rec = JSON.parse(line)
      } catch {
        return
      }
      logs.push(rec)
      if (rec.msg === 'listening' && typeof rec.port === 'number') {
        clearTimeout(timer)
        resolve(rec.port)
      }
    })
  })
  const exited = new Promise<number | null>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve(proc.exitCode)
    else proc.once('exit', (code) => resolve(code))
  })
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    logs,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
      const killer = setTimeout(() => proc.kill('SIGKILL'), 5_000)
      const code = await exited
      clearTimeout(killer)
      return code
    },
  }
}
