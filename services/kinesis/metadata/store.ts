// The authoritative store (AWS used DynamoDB): streams and their shards, shard -> back-end
// ownership, back-end addresses, and fleet membership per fleet and cell. Every mutation but a
// heartbeat bumps one version counter and is durable (atomic-file.ts) before it is answered.
import { AwsErrors } from '../../kit/index.js'
import { AtomicJsonFile } from '../../kit/atomic-file.js'
import { KINESIS_RETENTION_HOURS } from '../../kit/outage-facts.js'
import { evenHashKeyRanges, shardIdOf, startingSequenceNumber } from './shards.js'

export interface Shard {
  shardId: string
  startingHashKey: string
  endingHashKey: string
  startingSequenceNumber: string
  /** Back-end id that owns the shard. */
  owner: string
}

export interface Stream {
  name: string
  arn: string
  status: 'ACTIVE'
  createdAtMs: number
  retentionHours: number
  shards: Shard[]
}

export interface Backend {
  id: string
  url: string
}

export interface Member {
  id: string
  url: string
  cell: string | null
  registeredAtMs: number
  lastHeartbeatAtMs: number
}

// Maps, not plain objects: names like "__proto__" are valid stream and member ids.
interface State {
  version: number
  /** Where the round robin of shard owners continues, so one-shard streams spread too. */
  nextOwner: number
  backends: Map<string, string>
  streams: Map<string, Stream>
  fleets: Map<string, Map<string, Member>>
}

const FORMAT = 1
export const ACCOUNT = '000000000000'
export const REGION = 'us-east-1'

export interface StoreOptions {
  now?: () => number
}

export class MetadataStore {
  readonly file: string
  #state: State
  #disk: AtomicJsonFile
  #now: () => number

  private constructor(file: string, state: State, now: () => number) {
    this.file = file
    this.#state = state
    this.#now = now
    this.#disk = new AtomicJsonFile(file, () => persisted(this.#state))
  }

  /** Opens the store, reloading what an earlier process persisted. */
  static async open(file: string, opts: StoreOptions = {}): Promise<MetadataStore> {
    const empty: State = { version: 0, nextOwner: 0, backends: new Map(), streams: new Map(), fleets: new Map() }
    const store = new MetadataStore(file, empty, opts.now ?? Date.now)
    const saved = await store.#disk.read()
    if (saved !== undefined) store.#state = restore(saved, file)
    return store
  }

  get version(): number {
    return this.#state.version
  }

  // --- back-ends ---------------------------------------------------------------------------

  async registerBackend(id: string, url: string): Promise<Backend> {
    if (this.#state.backends.get(id) !== url) {
      this.#state.backends.set(id, url)
      await this.#mutated()
    }
    return { id, url }
  }

  backends(): Backend[] {
    return [...this.#state.backends.keys()].sort().map((id) => ({ id, url: this.#state.backends.get(id)! }))
  }

  // --- streams -----------------------------------------------------------------------------

  async createStream(name: string, shardCount: number): Promise<Stream> {
    if (this.#state.streams.has(name)) throw AwsErrors.ResourceInUseException(`Stream ${name} under account ${ACCOUNT} already exists.`)
    const owners = this.backends()
    if (owners.length === 0) throw AwsErrors.ServiceUnavailable('No back-end is registered to own shards; start a kinesis backend first.')
    const start = this.#state.nextOwner
    const stream: Stream = {
      name,
      arn: `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${name}`,
      status: 'ACTIVE',
      createdAtMs: this.#now(),
      retentionHours: KINESIS_RETENTION_HOURS,
      shards: evenHashKeyRanges(shardCount).map((range, i) => ({
        shardId: shardIdOf(i),
        ...range,
        startingSequenceNumber: startingSequenceNumber(i),
        owner: owners[(start + i) % owners.length].id,
      })),
    }
    this.#state.streams.set(name, stream)
    this.#state.nextOwner = (start + shardCount) % owners.length
    await this.#mutated()
    return stream
  }

  stream(name: string): Stream {
    const stream = this.#state.streams.get(name)
    if (!stream) throw AwsErrors.ResourceNotFoundException(`Stream ${name} under account ${ACCOUNT} not found.`)
    return stream
  }

  streamNames(): string[] {
    return [...this.#state.streams.keys()].sort()
  }

  streams(): Stream[] {
    return this.streamNames().map((name) => this.#state.streams.get(name)!)
  }

  async deleteStream(name: string): Promise<Stream> {
    const stream = this.stream(name)
    this.#state.streams.delete(name)
    await this.#mutated()
    return stream
  }

  // --- fleet membership --------------------------------------------------------------------

  /** Idempotent: registering again with the same url and cell changes nothing but the heartbeat. */
  async registerMember(fleet: string, id: string, url: string, cell: string | null): Promise<Member> {
    let members = this.#state.fleets.get(fleet)
    if (!members) this.#state.fleets.set(fleet, (members = new Map()))
    const now = this.#now()
    const known = members.get(id)
    if (known && known.url === url && known.cell === cell) {
      known.lastHeartbeatAtMs = now
      return known
    }
    const member: Member = { id, url, cell, registeredAtMs: known?.registeredAtMs ?? now, lastHeartbeatAtMs: now }
    members.set(id, member)
    await this.#mutated()
    return member
  }

  /** Heartbeats stay in memory: they are frequent and only say "still here". */
  heartbeat(fleet: string, id: string): Member {
    const member = this.#state.fleets.get(fleet)?.get(id)
    if (!member) {
      throw AwsErrors.ResourceNotFoundException(`Member ${id} of fleet ${fleet} not found.`)
    }
    member.lastHeartbeatAtMs = this.#now()
    return member
  }

  /** Idempotent, so removing capacity never fails on a member that died before registering. */
  async removeMember(fleet: string, id: string): Promise<boolean> {
    const members = this.#state.fleets.get(fleet)
    if (!members?.delete(id)) return false
    if (members.size === 0) this.#state.fleets.delete(fleet)
    await this.#mutated()
    return true
  }

  members(fleet: string, cell?: string): Member[] {
    const members = this.#state.fleets.get(fleet)
    if (!members) return []
    return [...members.keys()]
      .sort()
      .map((id) => members.get(id)!)
      .filter((m) => cell === undefined || m.cell === cell)
  }

  fleets(): string[] {
    return [...this.#state.fleets.keys()].sort()
  }

  /** Waits until everything mutated so far is on disk. */
  flush(): Promise<void> {
    return this.#disk.flush()
  }

  #mutated(): Promise<void> {
    this.#state.version++
    return this.#disk.save()
  }
}

function persisted(state: State): object {
  return {
    format: FORMAT,
    version: state.version,
    nextOwner: state.nextOwner,
    backends: Object.fromEntries(state.backends),
    streams: Object.fromEntries(state.streams),
    fleets: Object.fromEntries([...state.fleets].map(([fleet, members]) => [fleet, Object.fromEntries(members)])),
  }
}

/** Checks the shape of a persisted state enough that a hand-edited or foreign file fails loudly. */
function restore(saved: unknown, file: string): State {
  const bad = (what: string) => new Error(`metadata file ${file}: ${what}`)
  const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v)
  if (!isObject(saved)) throw bad('expected a JSON object')
  if (saved.format !== FORMAT) throw bad(`unknown format ${JSON.stringify(saved.format)} (expected ${FORMAT})`)
  if (!Number.isInteger(saved.version) || saved.version < 0) throw bad('version must be a non-negative integer')
  for (const key of ['backends', 'streams', 'fleets']) if (!isObject(saved[key])) throw bad(`${key} must be an object`)
  const fleets = new Map<string, Map<string, Member>>()
  for (const [fleet, members] of Object.entries(saved.fleets)) {
    if (!isObject(members)) throw bad(`fleets.${fleet} must be an object`)
    fleets.set(fleet, new Map(Object.entries(members as Record<string, Member>)))
  }
  return {
    version: saved.version,
    nextOwner: Number.isInteger(saved.nextOwner) ? saved.nextOwner : 0,
    backends: new Map(Object.entries(saved.backends as Record<string, string>)),
    streams: new Map(Object.entries(saved.streams as Record<string, Stream>)),
    fleets,
  }
}
