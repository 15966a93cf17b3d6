// The rules of the default event bus and their targets. Kept in memory for the consumer's hot path
// and persisted as one JSON document under OUTAGE_LAB_DATA_DIR, so a restarted EventBridge still
// knows where events go.
import { compilePattern, type CompiledPattern } from './pattern.js'
import { fileWriter, readJson } from './files.js'
import { ACCOUNT } from './errors.js'

export type RuleState = 'ENABLED' | 'DISABLED'

export interface RetryPolicy {
  maximumRetryAttempts: number
  maximumEventAgeSeconds: number
}

export interface Target {
  Id: string
  Arn: string
  Input?: string
  InputPath?: string
  RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number }
}

export interface Rule {
  name: string
  eventPattern: string
  state: RuleState
  description?: string
  createdAtMs: number
  targets: Target[]
}

export interface LiveRule extends Rule {
  pattern: CompiledPattern
}

/** EventBridge's defaults: 185 attempts over 24 hours. */
export const DEFAULT_RETRY: RetryPolicy = { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86_400 }

export function retryPolicyOf(target: Target): RetryPolicy {
  return {
    maximumRetryAttempts: target.RetryPolicy?.MaximumRetryAttempts ?? DEFAULT_RETRY.maximumRetryAttempts,
    maximumEventAgeSeconds: target.RetryPolicy?.MaximumEventAgeInSeconds ?? DEFAULT_RETRY.maximumEventAgeSeconds,
  }
}

export function ruleArn(region: string, name: string): string {
  return `arn:aws:events:${region}:${ACCOUNT}:rule/${name}`
}

export class RuleStore {
  private readonly rules = new Map<string, LiveRule>()
  private readonly writer?: ReturnType<typeof fileWriter>

  private constructor(file: string | undefined) {
    if (file) this.writer = fileWriter(file)
  }

  /** file undefined: memory only (inject() tests). */
  static async open(file: string | undefined): Promise<RuleStore> {
    const store = new RuleStore(file)
    const doc = file ? await readJson<{ rules: Rule[] }>(file) : undefined
    for (const r of doc?.rules ?? []) store.rules.set(r.name, { ...r, pattern: compilePattern(r.eventPattern) })
    return store
  }

  get(name: string): LiveRule | undefined {
    return this.rules.get(name)
  }

  list(): LiveRule[] {
    return [...this.rules.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  get size(): number {
    return this.rules.size
  }

  /** Enabled rules, for the consumer. */
  enabled(): LiveRule[] {
    return [...this.rules.values()].filter((r) => r.state === 'ENABLED')
  }

  async put(rule: Omit<Rule, 'targets' | 'createdAtMs'>, pattern: CompiledPattern): Promise<LiveRule> {
    const old = this.rules.get(rule.name)
    const live: LiveRule = { ...rule, pattern, createdAtMs: old?.createdAtMs ?? Date.now(), targets: old?.targets ?? [] }
    this.rules.set(rule.name, live)
    await this.save()
    return live
  }

  async setTargets(name: string, targets: Target[]): Promise<void> {
    const rule = this.rules.get(name)
    if (rule) rule.targets = targets
    await this.save()
  }

  async delete(name: string): Promise<boolean> {
    const had = this.rules.delete(name)
    if (had) await this.save()
    return had
  }

  async flush(): Promise<void> {
    await this.writer?.flush()
  }

  private save(): Promise<void> {
    const rules: Rule[] = this.list().map(({ pattern: _p, ...r }) => r)
    return this.writer?.save({ rules }) ?? Promise.resolve()
  }
}
