// Request bodies compressed by the SDK (Content-Encoding: gzip; botocore and the JS SDK compress
// CloudWatch's PutMetricData above 10 KiB). The signature covers the compressed bytes, so bodies are
// inflated after it is checked. A gzip bomb must not take the process down: inflating stops at a
// limit and the request is refused.
import { gunzipSync } from 'node:zlib'
import type { AwsError } from '../errors.js'

export interface RequestCompression {
  /** Decompressed bodies above this are refused. */
  maxInflatedBytes: number
  /** The service's error for a body that is not gzip or inflates beyond the limit. */
  invalid: (message: string) => AwsError
}

export function inflate(raw: Buffer, contentEncoding: string | string[] | undefined, compression: RequestCompression | undefined): Buffer {
  const encoding = Array.isArray(contentEncoding) ? contentEncoding.join(',') : (contentEncoding ?? '')
  if (!compression || raw.length === 0 || !/\bgzip\b/i.test(encoding)) return raw
  try {
    return gunzipSync(raw, { maxOutputLength: compression.maxInflatedBytes })
  } catch {
    throw compression.invalid(`The request body is not valid gzip, or inflates beyond ${Math.round(compression.maxInflatedBytes / 1024 / 1024)} MiB.`)
  }
}
