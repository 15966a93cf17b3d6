// The client side of SigV4, for an AWS API the lab serves that has no stock SDK client here (the
// autoscaler's scaling-policy API stands for Application Auto Scaling, whose client the lab does
// not install): the signer every JS SDK client uses (@smithy/signature-v4), hashing with node's crypto.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'

export interface SigningCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

export interface ToSign {
  method: string
  /** The full URL the request goes to: its host is signed, so it must be the one that travels. */
  url: string
  headers?: Record<string, string>
  body?: string
}

/** The headers to send (host, x-amz-date, authorization and the caller's own), lower-cased. */
export async function signRequest(
  req: ToSign,
  opts: { credentials: SigningCredentials; region: string; service: string; nowMs?: number },
): Promise<Record<string, string>> {
  const url = new URL(req.url)
  const query: Record<string, string | string[]> = {}
  for (const [k, v] of url.searchParams) {
    const had = query[k]
    query[k] = had === undefined ? v : [...(Array.isArray(had) ? had : [had]), v]
  }
  const signer = new SignatureV4({ credentials: opts.credentials, region: opts.region, service: opts.service, sha256: Sha256 })
  const out = await signer.sign(
    {
      method: req.method.toUpperCase(),
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: { host: url.host, ...(req.headers ?? {}) },
      body: req.body,
    },
    opts.nowMs !== undefined ? { signingDate: new Date(opts.nowMs) } : {},
  )
  return Object.fromEntries(Object.entries(out.headers).map(([k, v]) => [k.toLowerCase(), String(v)]))
}

// The signer takes its hash as a constructor.
class Sha256 {
  #hash: Hash | Hmac
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret))
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytes(data))
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest())
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8')
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return Buffer.from(data)
}
