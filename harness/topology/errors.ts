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
