// AWS Signature Version 4 verification, server side: recompute the signature the stock SDK made
// from the same canonical request and compare. The failures answer with the error types AWS uses.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { AwsErrors } from './errors.js'

export interface SignedRequest {
  method: string
  /** The raw request target as received: path and query, still URL-encoded. */
  url: string
  headers: Record<string, string | string[] | undefined>
  body: Buffer | string
}

export interface VerifyOptions {
  /** Access key id -> secret access key. */
  keys: Map<string, string>
  /** The signing name the credential scope must carry ("kinesis"); any when absent. */
  service?: string
  nowMs?: number
  /** AWS allows 15 minutes of clock skew. */
  maxSkewMs?: number
}

export interface Caller {
  accessKeyId: string
  region: string
  service: string
}

const ALGORITHM = 'AWS4-HMAC-SHA256'
const AUTH =
  /^AWS4-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request,\s*SignedHeaders=([a-z0-9\-;.:]+),\s*Signature=([0-9a-f]{64})$/

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'

export function verifySigV4(req: SignedRequest, opts: VerifyOptions): Caller {
  const auth = header(req.headers, 'authorization')
  if (!auth) throw AwsErrors.MissingAuthenticationTokenException('Missing Authentication Token')
  if (!auth.startsWith(ALGORITHM)) throw AwsErrors.IncompleteSignatureException(`Unsupported authorization type: only ${ALGORITHM} is accepted`)
  const m = AUTH.exec(auth.trim())
  if (!m)
    throw AwsErrors.IncompleteSignatureException(
      `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=${auth}`,
    )
  const [, accessKeyId, date, region, service, signedHeaders, signature] = m
  const secret = opts.keys.get(accessKeyId)
  if (secret === undefined) throw AwsErrors.UnrecognizedClientException('The security token included in the request is invalid.')
  if (opts.service && service !== opts.service) throw AwsErrors.InvalidSignatureException(`Credential should be scoped to correct service: '${opts.service}'.`)

  const amzDate = header(req.headers, 'x-amz-date')
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate))
    throw AwsErrors.IncompleteSignatureException("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
  if (amzDate.slice(0, 8) !== date)
    throw AwsErrors.InvalidSignatureException(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    )
  const signedAt = Date.UTC(
    +amzDate.slice(0, 4),
    +amzDate.slice(4, 6) - 1,
    +amzDate.slice(6, 8),
    +amzDate.slice(9, 11),
    +amzDate.slice(11, 13),
    +amzDate.slice(13, 15),
  )
  const now = opts.nowMs ?? Date.now()
  const maxSkew = opts.maxSkewMs ?? 15 * 60_000
  const skewMin = Math.round(maxSkew / 60_000)
  if (now - signedAt > maxSkew) {
    throw AwsErrors.InvalidSignatureException(
      `Signature expired: ${amzDate} is now earlier than ${isoBasic(now - maxSkew)} (${isoBasic(now)} - ${skewMin} min.)`,
    )
  }
  if (signedAt - now > maxSkew) {
    throw AwsErrors.InvalidSignatureException(
      `Signature not yet current: ${amzDate} is still later than ${isoBasic(now + maxSkew)} (${isoBasic(now)} + ${skewMin} min.)`,
    )
  }

  const names = signedHeaders.split(';')
  const canonicalHeaders = names.map((name) => `${name}:${canonicalHeaderValue(req.headers, name)}\n`).join('')
  const qIndex = req.url.indexOf('?')
  const path = qIndex >= 0 ? req.url.slice(0, qIndex) : req.url
  const query = qIndex >= 0 ? req.url.slice(qIndex + 1) : ''
  // The hash of the bytes received, never the one the client claims in x-amz-content-sha256: a body
  // changed on the way must fail the signature even when that header was left as it was.
  const payloadHash = header(req.headers, 'x-amz-content-sha256') === 'UNSIGNED-PAYLOAD' ? 'UNSIGNED-PAYLOAD' : sha256Hex(req.body)
  const canonicalRequest = [req.method.toUpperCase(), canonicalPath(path), canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash].join('\n')
  const scope = `${date}/${region}/${service}/aws4_request`
  const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`
  const expected = createHmac('sha256', signingKey(secret, date, region, service))
    .update(stringToSign)
    .digest()
  const given = Buffer.from(signature, 'hex')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw AwsErrors.InvalidSignatureException(MISMATCH)
  return { accessKeyId, region, service }
}

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v.join(',') : v
}

function canonicalHeaderValue(headers: SignedRequest['headers'], name: string): string {
  // Over HTTP/2 the host travels as the :authority pseudo-header, and the SDK's HTTP/2 handler signs
  // it under that name. A proxy that speaks HTTP/1.1 onwards (kinesis/endpoint) turns it into host.
  const v = headers[name] ?? (name === 'host' ? headers[':authority'] : name === ':authority' ? headers.host : undefined)
  if (v === undefined) return ''
  const values = Array.isArray(v) ? v : [v]
  return values.map((s) => s.trim().replace(/\s+/g, ' ')).join(',')
}

// Non-S3 services normalize the path (no empty, "." or ".." segments) and escape each (already
// encoded) segment once more, as the SDK's signer does.
function canonicalPath(path: string): string {
  if (!path || path === '/') return '/'
  const segments: string[] = []
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') segments.pop()
    else segments.push(awsEscape(segment))
  }
  return `/${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`
}

function canonicalQuery(query: string): string {
  if (!query) return ''
  const pairs: Array<[string, string]> = []
  for (const part of query.split('&')) {
    if (!part) continue
    const eq = part.indexOf('=')
    const k = decode(eq >= 0 ? part.slice(0, eq) : part)
    const v = eq >= 0 ? decode(part.slice(eq + 1)) : ''
    if (k === 'X-Amz-Signature') continue
    pairs.push([awsEscape(k), awsEscape(v)])
  }
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
  return pairs.map(([k, v]) => `${k}=${v}`).join('&')
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%20'))
  } catch {
    return s
  }
}

function awsEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

const keyCache = new Map<string, Buffer>()

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const cacheKey = `${secret}\0${date}\0${region}\0${service}`
  let key = keyCache.get(cacheKey)
  if (!key) {
    const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest()
    const kRegion = createHmac('sha256', kDate).update(region).digest()
    const kService = createHmac('sha256', kRegion).update(service).digest()
    key = createHmac('sha256', kService).update('aws4_request').digest()
    if (keyCache.size > 256) keyCache.clear()
    keyCache.set(cacheKey, key)
  }
  return key
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

function isoBasic(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}
