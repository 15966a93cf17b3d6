// The shard-map's calls to kinesis/metadata (docs/internals.md): membership vending and the
// authoritative store. Runs on the main thread, through the service's outbound dispatcher so
// injected faults reach it.
import { request, type Dispatcher } from 'undici'
import type { StreamInfo } from './types.js'
import { internalHeaders } from '../../../kit/internal.js'

export interface Member {
  id: string
  url: string
  cell?: string | null
  registeredAtMs?: number
  lastHeartbeatAtMs?: number
}

export interface Membership {
  fleet: string
  version: number
  members: Member[]
}

export interface AuthoritativeMap {
  version: number
  streams: StreamInfo[]
  backends: Record<string, string>
  members: Member[]
}

export class MetadataError extends Error {
  constructor(
    readonly status: number,
    readonly type: string | undefined,
    message: string,
  ) {
    super(message)
    this.name = 'MetadataError'
  }
}

export class MetadataClient {
  #base: string
  #fleet: string
  #cell: string | undefined
  #dispatcher: Dispatcher | undefined

  #credential: Record<string, string>

  constructor(opts: { metadataUrl: string; fleet: string; cell?: string; dispatcher?: Dispatcher; internalToken?: string }) {
    this.#base = opts.metadataUrl.replace(/\/$/, '')
    this.#fleet = opts.fleet
    this.#cell = opts.cell
    this.#dispatcher = opts.dispatcher
    this.#credential = internalHeaders(opts.internalToken)
  }

  register(id: string, url: string): Promise<unknown> {
    const body: Record<string, string> = { url }
    if (this.#cell) body.cell = this.#cell
    return this.#call('PUT', `/fleets/${enc(this.#fleet)}/members/${enc(id)}`, body)
  }

  heartbeat(id: string): Promise<unknown> {
    return this.#call('POST', `/fleets/${enc(this.#fleet)}/members/${enc(id)}/heartbeat`, {})
  }

  members(): Promise<Membership> {
    return this.#call('GET', `/fleets/${enc(this.#fleet)}/members${this.#cell ? `?cell=${enc(this.#cell)}` : ''}`) as Promise<Membership>
  }

  /** Members of another fleet (the shard-map cache fleet), whole fleet, no cell. */
  fleetMembers(fleet: string): Promise<Membership> {
    return this.#call('GET', `/fleets/${enc(fleet)}/members`) as Promise<Membership>
  }

  /** The authoritative map as a cache-fleet member last read it. */
  async authoritativeFrom(memberUrl: string): Promise<AuthoritativeMap> {
    const res = await request(`${memberUrl.replace(/\/$/, '')}/peer/authoritative`, {
      dispatcher: this.#dispatcher,
      headers: this.#credential,
      headersTimeout: 3_000,
      bodyTimeout: 3_000,
    })
    const text = await res.body.text()
    if (res.statusCode !== 200) throw new MetadataError(res.statusCode, undefined, `shard-map cache ${memberUrl}: HTTP ${res.statusCode} ${text.slice(0, 200)}`)
    return JSON.parse(text) as AuthoritativeMap
  }

  shardMap(): Promise<AuthoritativeMap> {
    return this.#call('GET', `/shardmap?fleet=${enc(this.#fleet)}${this.#cell ? `&cell=${enc(this.#cell)}` : ''}`) as Promise<AuthoritativeMap>
  }

  async #call(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const res = await request(this.#base + path, {
      method,
      dispatcher: this.#dispatcher,
      headers: body === undefined ? this.#credential : { ...this.#credential, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    })
    const text = await res.body.text()
    let parsed: any
    try {
      parsed = text ? JSON.parse(text) : {}
    } catch {
      throw new MetadataError(res.statusCode, undefined, `metadata ${method} ${path}: HTTP ${res.statusCode}, not JSON`)
    }
    if (res.statusCode >= 300) {
      throw new MetadataError(
        res.statusCode,
        parsed?.__type,
        `metadata ${method} ${path}: HTTP ${res.statusCode} ${parsed?.__type ?? ''} ${parsed?.message ?? ''}`.trim(),
      )
    }
    return parsed
  }
}

const enc = encodeURIComponent
