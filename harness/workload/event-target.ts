// The customers' EventBridge target: a small HTTP server on 127.0.0.1 that a rule delivers to.
// It measures what EventBridge's customers felt in 2020: how late their events arrived.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export class EventTarget {
  #server = http.createServer((req, res) => this.#receive(req, res))
  #clock: () => number
  delivered = 0
  /** Delays of deliveries since the last read (ms from PutEvents to arrival). */
  #delays: number[] = []
  maxDelayMs = 0
  url = ''

  constructor(clock: () => number) {
    this.#clock = clock
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/events`
    return this
  }

  #receive(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      try {
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        const sent = Number(event?.detail?.sentAtMs)
        if (Number.isFinite(sent)) {
          const delay = this.#clock() - sent
          this.#delays.push(delay)
          this.maxDelayMs = Math.max(this.maxDelayMs, delay)
        }
        this.delivered++
      } catch {
        // Not an event: still answer, the sender is not ours to punish.
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  }

  /** The largest delay delivered since the last call (null when nothing arrived). */
  takeDelay(): number | null {
    const d = this.#delays.length ? Math.max(...this.#delays) : null
    this.#delays = []
    return d
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}
