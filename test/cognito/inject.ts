// Calls a cognito app with inject(): signed as the stock SDK signs (SigV4 over the same headers,
// from @smithy/signature-v4), or unsigned as the SDK sends InitiateAuth and GetUser.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'
import type { FastifyInstance } from 'fastify'

export const KEYS = new Map([['AKIDOUTAGELAB', 'outage-lab-secret']])
const CREDENTIALS = { accessKeyId: 'AKIDOUTAGELAB', secretAccessKey: 'outage-lab-secret' }
const HOST = 'cognito-idp.local:9229'

class Sha256 {
  #hash: Hash | Hmac
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret))
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(toBuffer(data))
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest())
  }
}
function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8')
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return Buffer.from(data)
}

export interface Answer {
  status: number
  body: any
  headers: Record<string, unknown>
}

export async function call(app: FastifyInstance, operation: string, input: unknown, opts: { signed?: boolean; secret?: string } = {}): Promise<Answer> {
  const body = JSON.stringify(input)
  let headers: Record<string, string> = {
    host: HOST,
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
  }
  if (opts.signed ?? true) {
    const signer = new SignatureV4({
      credentials: { ...CREDENTIALS, secretAccessKey: opts.secret ?? CREDENTIALS.secretAccessKey },
      region: 'us-east-1',
      service: 'cognito-idp',
      sha256: Sha256,
    })
    const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: 'cognito-idp.local', port: 9229, path: '/', query: {}, headers, body })
    headers = signed.headers as Record<string, string>
  }
  const res = await app.inject({ method: 'POST', url: '/', headers, payload: body })
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, headers: res.headers }
}

/** The tokens' issuer base the app derives from the Host these calls carry. */
export const ISSUER_BASE = `http://${HOST}`
