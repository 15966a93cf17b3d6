// How a service process lives and dies: listen, log where, close gracefully on SIGTERM/SIGINT,
// and exit when the harness that started it is gone (so a SIGKILLed harness leaves nothing behind).
import type { FastifyInstance } from 'fastify'

export interface ServeOptions {
  port: number
  host: string
  /** Exit when this process's parent changes (the harness died). */
  watchParent?: boolean
  /** Work to do after the server closed (flush logs, fsync, stop threads). */
  onClose?: () => Promise<void> | void
  closeTimeoutMs?: number
}

/** What serve() hands back: a way to end the process as a signal would, with an exit code. */
export interface Served {
  close(reason: string, code: number): Promise<void>
}

export async function serve(app: FastifyInstance, opts: ServeOptions): Promise<Served> {
  let closing = false
  const close = async (reason: string, code: number) => {
    if (closing) return
    closing = true
    app.log.info({ reason }, 'closing')
    const deadline = setTimeout(() => process.exit(code), opts.closeTimeoutMs ?? 5_000)
    deadline.unref()
    try {
      await app.close()
      await opts.onClose?.()
    } catch (err) {
      app.log.error({ err }, 'error while closing')
    }
    process.exit(code)
  }
  process.once('SIGTERM', () => void close('SIGTERM', 0))
  process.once('SIGINT', () => void close('SIGINT', 0))
  process.once('uncaughtException', (err) => {
    app.log.fatal({ err }, 'uncaught exception')
    void close('uncaughtException', 1)
  })

  if (opts.watchParent) {
    const parent = process.ppid
    setInterval(() => {
      if (process.ppid !== parent) void close('parent process exited', 0)
    }, 500).unref()
  }

  await app.listen({ port: opts.port, host: opts.host })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : opts.port
  app.log.info({ port, host: opts.host, pid: process.pid }, 'listening')
  return { close }
}
