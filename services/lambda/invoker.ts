// One invocation on the simulated host: take a concurrency slot, reserve the host memory the
// invocation needs, run the built-in handler, write its log, hand its datums and log record to the
// host agent, release. An invocation the host cannot fit fails before it runs.
import { randomUUID } from 'node:crypto'
import type { BuiltinFunction } from './functions.js'
import type { HostMemory } from './host-memory.js'
import type { MetricsAgent } from './agent.js'
import type { LambdaMetrics } from './metrics.js'
import { LambdaErrors } from './errors.js'

/** LogType=Tail returns the last 4 KB of the invocation's log, as Lambda does. */
const LOG_TAIL_BYTES = 4096

export interface InvokerOptions {
  memory: HostMemory
  agent: MetricsAgent
  metrics: LambdaMetrics
  invocationMemoryBytes: number
  logBytesPerInvocation: number
  maxConcurrentInvocations: number
}

export interface InvocationResult {
  requestId: string
  /** The JSON the function returned, or its error document. */
  payload: Buffer
  /** "Unhandled" when the handler threw. */
  functionError?: string
  /** base64 of the log's last 4 KB. */
  logTail: string
}

export class Invoker {
  readonly #o: InvokerOptions
  #running = 0

  constructor(opts: InvokerOptions) {
    this.#o = opts
  }

  /**
   * Admits the invocation (concurrency, then host memory) or throws the error the caller gets, and
   * returns the run. Admission is synchronous so an Event invocation is refused before its 202.
   */
  admit(fn: BuiltinFunction, payload: unknown): () => Promise<InvocationResult> {
    if (this.#running >= this.#o.maxConcurrentInvocations) {
      this.#o.metrics.invocation(fn.name, 'throttled')
      throw LambdaErrors.TooManyRequestsException('Rate Exceeded.', 'ConcurrentInvocationLimitExceeded')
    }
    const { memory } = this.#o
    const reservation = memory.reserve(this.#o.invocationMemoryBytes)
    if (!reservation) {
      this.#o.metrics.invocation(fn.name, 'host_memory_exhausted')
      // A host that cannot fit the invocation is Lambda's fault, not the caller's or the function's:
      // a ServiceException (500, Type "Service"), which the SDK treats as retryable.
      throw LambdaErrors.ServiceException(
        `Lambda could not place the invocation: its host has no memory left for it (simulated host: ${mib(memory.usedBytes)} of ${mib(memory.budgetBytes)} MiB in use, ${mib(memory.agentBytes)} MiB by the metrics agent's buffer)`,
      )
    }
    this.#running++
    return async () => {
      try {
        return await this.#run(fn, payload)
      } finally {
        this.#running--
        reservation.release()
      }
    }
  }

  async #run(fn: BuiltinFunction, payload: unknown): Promise<InvocationResult> {
    const requestId = randomUUID()
    const atMs = Date.now()
    const lines: string[] = [`START RequestId: ${requestId} Version: $LATEST`]
    const log = (line: string) => lines.push(`${new Date().toISOString()}\t${requestId}\tINFO\t${line}`)
    const started = performance.now()
    let result: unknown
    let failure: Error | undefined
    try {
      result = await fn.handler(payload, { log, requestId })
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err))
    }
    const durationMs = performance.now() - started
    let body: Buffer
    if (failure) {
      const doc = { errorType: failure.name, errorMessage: failure.message, trace: (failure.stack ?? '').split('\n') }
      lines.push(`${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(doc)}`)
      body = Buffer.from(JSON.stringify(doc))
    } else {
      body = Buffer.from(JSON.stringify(result ?? null))
    }
    lines.push(`END RequestId: ${requestId}`)
    lines.push(
      `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.max(1, Math.ceil(durationMs))} ms\tMemory Size: ${fn.memorySizeMb} MB\tMax Memory Used: ${Math.round(this.#o.invocationMemoryBytes / 1048576)} MB`,
    )
    const text = `${lines.join('\n')}\n`
    this.#o.metrics.invocation(fn.name, failure ? 'function_error' : 'success', durationMs)
    // The log record stands for a real function's log volume: padded up to LOG_BYTES_PER_INVOCATION.
    this.#o.agent.record({
      functionName: fn.name,
      atMs,
      durationMs,
      functionError: failure !== undefined,
      log: text.padEnd(this.#o.logBytesPerInvocation, '.'),
    })
    const tail = Buffer.from(text)
    return {
      requestId,
      payload: body,
      ...(failure ? { functionError: 'Unhandled' } : {}),
      logTail: tail.subarray(Math.max(0, tail.length - LOG_TAIL_BYTES)).toString('base64'),
    }
  }
}

const mib = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1)
