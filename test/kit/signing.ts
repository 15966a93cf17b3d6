// Requests for app.inject() signed by the real AWS signer (@smithy/signature-v4, what every JS SDK
// client uses), whatever their protocol: the body is signed as the bytes that travel.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'

export const CREDENTIALS = { accessKeyId: 'AKIDOUTAGELAB', secretAccessKey: 'outage-lab-secret' }
export const KEYS = new Map([[CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey]])

// The signer takes its hash as a constructor; node's crypto does the hashing.
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

export interface Unsigned {
  path?: string
  headers: Record<string, string>
  body: Buffer | string
  /** The signing name ("monitoring", "kinesis"). */
  service: string
  credentials?: { accessKeyId: string; secretAccessKey: string }
  /** Leave the request unsigned. */
  unsigned?: boolean
}

export interface Injectable {
  method: 'POST'
  url: string
  headers: Record<string, string>
  payload: Buffer
}

export async function signed(u: Unsigned): Promise<Injectable> {
  const body = Buffer.isBuffer(u.body) ? u.body : Buffer.from(u.body, 'utf8')
  const path = u.path ?? '/'
  const headers = { host: 'localhost', ...u.headers }
  if (u.unsigned) return { method: 'POST', url: path, headers, payload: body }
  const signer = new SignatureV4({ credentials: u.credentials ?? CREDENTIALS, region: 'us-east-1', service: u.service, sha256: Sha256 })
  const out = await signer.sign({ method: 'POST', protocol: 'http:', hostname: 'localhost', path, query: {}, headers, body })
  return { method: 'POST', url: path, headers: Object.fromEntries(Object.entries(out.headers).map(([k, v]) => [k.toLowerCase(), v])), payload: body }
}
