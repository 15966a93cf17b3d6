// SigV4 for the fuzzer's requests, written from AWS's description (canonical request, string to
// sign, derived key) rather than taken from the kit, so a request the fuzzer signs checks the kit's
// verifier instead of agreeing with it by construction. The paths are the SDK's: each segment of the
// URL as sent is escaped once more (non-S3 services).
import { createHash, createHmac } from 'node:crypto'

export interface Signable {
  method: string
  /** Path and query, URL-encoded as sent. */
  url: string
  headers: Record<string, string>
  payload: Buffer
}

export function sign(req: Signable, o: { accessKeyId: string; secretAccessKey: string; service: string; region?: string; atMs?: number }): Signable {
  const region = o.region ?? 'us-east-1'
  const amzDate = new Date(o.atMs ?? Date.now())
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const day = amzDate.slice(0, 8)
  const headers: Record<string, string> = { host: 'localhost', ...lower(req.headers), 'x-amz-date': amzDate }
  delete headers.authorization
  const names = Object.keys(headers).sort()
  const q = req.url.indexOf('?')
  const path = q >= 0 ? req.url.slice(0, q) : req.url
  const query = q >= 0 ? req.url.slice(q + 1) : ''
  const canonical = [
    req.method,
    canonicalPath(path),
    canonicalQuery(query),
    names.map((n) => `${n}:${headers[n].trim().replace(/\s+/g, ' ')}\n`).join(''),
    names.join(';'),
    sha256(req.payload),
  ].join('\n')
  const scope = `${day}/${region}/${o.service}/aws4_request`
  let key: Buffer = createHmac('sha256', `AWS4${o.secretAccessKey}`).update(day).digest()
  for (const part of [region, o.service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest()
  const signature = createHmac('sha256', key)
    .update(`AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(canonical)}`)
    .digest('hex')
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${o.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`
  return { ...req, headers }
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]))
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex')

const escape = (s: string) =>
  encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd')).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

function canonicalPath(path: string): string {
  const segments = path.split('/').filter((s) => s !== '' && s !== '.')
  return segments.length === 0 ? '/' : `/${segments.map(escape).join('/')}${path.endsWith('/') ? '/' : ''}`
}

function canonicalQuery(query: string): string {
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, '%20'))
    } catch {
      return s
    }
  }
  return query
    .split('&')
    .filter(Boolean)
    .map((p) => {
      const eq = p.indexOf('=')
      return [escape(decode(eq >= 0 ? p.slice(0, eq) : p)), escape(eq >= 0 ? decode(p.slice(eq + 1)) : '')]
    })
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}
