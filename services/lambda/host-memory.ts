// The memory of a SIMULATED invocation host: an accounting, not this process's RSS. A real process
// cannot safely be driven into the kernel's OOM killer on a shared test machine, so the host is a
// budget (HOST_MEMORY_BUDGET_MB) that two tenants share, as on a 2020 invocation host: each running
// invocation reserves its memory (INVOCATION_MEMORY_MB) for its duration, and the host agent's
// in-memory metrics buffer counts with its real serialized byte size. When the agent's buffer grows
// (CloudWatch down), invocations stop fitting and fail: the memory contention of the post-event
// summary.

export interface Reservation {
  release(): void
}

export class HostMemory {
  readonly budgetBytes: number
  #reservedBytes = 0
  #agentBytes = 0
  #reservations = 0

  constructor(budgetBytes: number) {
    this.budgetBytes = budgetBytes
  }

  /** A reservation for one invocation, or undefined when the host has no room for it. */
  reserve(bytes: number): Reservation | undefined {
    if (this.usedBytes + bytes > this.budgetBytes) return undefined
    this.#reservedBytes += bytes
    this.#reservations++
    let released = false
    return {
      release: () => {
        if (released) return
        released = true
        this.#reservedBytes -= bytes
        this.#reservations--
      },
    }
  }

  /**
   * The agent's in-memory buffer, as it stands. Never refused: the 2020 agent grew without asking,
   * which is why it could crowd invocations out (it may even go past the budget on paper).
   */
  setAgentBytes(bytes: number): void {
    this.#agentBytes = bytes
  }

  get usedBytes(): number {
    return this.#reservedBytes + this.#agentBytes
  }
  get reservedBytes(): number {
    return this.#reservedBytes
  }
  get agentBytes(): number {
    return this.#agentBytes
  }
  get runningInvocations(): number {
    return this.#reservations
  }
}
