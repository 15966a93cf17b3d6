// The topology's failures, each with a stable code: callers (the CLI, the control API, the runner)
// match on `code`, never on message text.

/** A bad definition: caught before any process starts. */
export class InvalidTopology extends Error {
  readonly code = 'INVALID_TOPOLOGY'
  readonly path: string
  constructor(path: string, expected: string, got: unknown) {
    super(`topology ${path}: expected ${expected}, got ${describe(got)}`)
    this.name = 'InvalidTopology'
    this.path = path
  }
}

/** A service did not answer its readiness check in time (or exited first). */
export class ServiceNotReady extends Error {
  readonly code = 'SERVICE_NOT_READY'
  readonly service: string
  /** The last lines the service wrote to stderr. */
  readonly stderrTail: string
  constructor(service: string, reason: string, stderrTail: string) {
    super(`${service} was not ready: ${reason}${stderrTail ? `\n--- ${service} stderr (tail) ---\n${stderrTail}` : ''}`)
    this.name = 'ServiceNotReady'
    this.service = service
    this.stderrTail = stderrTail
  }
}

/**
 * A customer service (the user's own) did not start, exited, or never became ready: the run cannot
 * judge what it does not see, so it ends (cleanly: everything is torn down). The message names the
 * customer, its exit code and its log file, kept in the run folder.
 */
export class CustomerFailed extends Error {
  readonly code = 'CUSTOMER_FAILED'
  readonly service: string
  /** null: it had not exited (it never became ready and was stopped), or it never started. */
  readonly exitCode: number | null
  readonly signal: string | null
  readonly logFile: string
  constructor(service: string, what: string, exit: { code: number | null; signal: string | null } | undefined, logFile: string, tail = '') {
    const code =
      exit === undefined ? 'none (it was still running)' : exit.code === null ? `none${exit.signal ? ` (killed by ${exit.signal})` : ''}` : String(exit.code)
    super(`customer ${service} ${what}; exit code ${code}; log: ${logFile}${tail ? `\n--- ${service} (last lines of its log) ---\n${tail}` : ''}`)
    this.name = 'CustomerFailed'
    this.service = service
    this.exitCode = exit?.code ?? null
    this.signal = exit?.signal ?? null
    this.logFile = logFile
  }
}

/** An operation on a running topology named something it does not have, or asked the impossible. */
export class InvalidOperation extends Error {
  readonly code: 'UNKNOWN_FLEET' | 'UNKNOWN_SERVICE' | 'INVALID_ARGUMENT' | 'STOPPED'
  constructor(code: InvalidOperation['code'], message: string) {
    super(message)
    this.name = 'InvalidOperation'
    this.code = code
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing'
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}

/** A program the topology runs is not built (dist/ is missing it). */
export class MissingProgram extends Error {
  readonly code = 'MISSING_PROGRAM'
  readonly file: string
  constructor(service: string, file: string) {
    super(`${service}: ${file} does not exist; build first (npx tsc -p .)`)
    this.name = 'MissingProgram'
    this.file = file
  }
}

/** start() was aborted (Ctrl-C while booting); what had started is stopped. */
export class BootAborted extends Error {
  readonly code = 'BOOT_ABORTED'
  constructor() {
    super('boot aborted; every started service was stopped')
    this.name = 'BootAborted'
  }
}
