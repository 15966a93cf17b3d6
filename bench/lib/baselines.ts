// The two npm Kinesis emulators the data path is measured against, started as real processes on
// free loopback ports and stopped after the run.
import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export interface RunningBaseline {
  name: string
  endpoint: string
  /** The server process (for its CPU time and memory). */
  pid?: number
  stop(): Promise<void>
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port
      srv.close(() => resolve(port))
    })
  })
}

async function waitForPort(port: number, timeoutMs: number, proc: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy()
        resolve(true)
      })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${name} did not open port ${port} within ${timeoutMs} ms`)
}

function stopper(proc: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve()
      proc.once('exit', () => resolve())
      proc.kill('SIGTERM')
      setTimeout(() => proc.kill('SIGKILL'), 3000).unref()
    })
}

/** A baseline that never opened its port is stopped before the error goes up. */
async function waitOrStop(wait: Promise<void>, proc: ChildProcess): Promise<void> {
  try {
    await wait
  } catch (err) {
    await stopper(proc)()
    throw err
  }
}

export async function startKinesalite(): Promise<RunningBaseline> {
  const port = await freePort()
  const bin = path.join(path.dirname(require.resolve('kinesalite/package.json')), 'cli.js')
  const proc = spawn(process.execPath, [bin, '--port', String(port), '--createStreamMs', '0', '--shardLimit', '1000'], { stdio: 'ignore' })
  await waitOrStop(waitForPort(port, 15_000, proc, 'kinesalite'), proc)
  return { name: 'kinesalite 3.3.3', endpoint: `http://127.0.0.1:${port}`, pid: proc.pid, stop: stopper(proc) }
}

export async function startKinesisLocal(): Promise<RunningBaseline> {
  const port = await freePort()
  const tls = await freePort()
  const dir = path.dirname(require.resolve('kinesis-local/package.json'))
  // It reads server.json from its working directory.
  const proc = spawn(process.execPath, ['main.js'], {
    cwd: dir,
    env: {
      ...process.env,
      KINESIS_MOCK_PLAIN_PORT: String(port),
      KINESIS_MOCK_TLS_PORT: String(tls),
      SHARD_LIMIT: '1000',
      CREATE_STREAM_DURATION: '0ms',
      LOG_LEVEL: 'ERROR',
    },
    stdio: 'ignore',
  })
  await waitOrStop(waitForPort(port, 60_000, proc, 'kinesis-local'), proc)
  return { name: 'kinesis-local 0.6.2', endpoint: `http://127.0.0.1:${port}`, pid: proc.pid, stop: stopper(proc) }
}
