// The backup posting path's only check: the operator key, a shared secret kept on the operator's
// machine. No dependency on Cognito or anything else, which is the point of a backup path.
import { createHash, timingSafeEqual } from 'node:crypto'
import { Rejections } from './errors.js'

export const MIN_OPERATOR_KEY_CHARS = 16

export function backupKeyCheck(operatorKey: string | undefined): (header: string | string[] | undefined) => void {
  // Digests have one length whatever the caller sends, so the comparison takes the same time
  // for every wrong key, long or short.
  const want = operatorKey ? createHash('sha256').update(operatorKey).digest() : undefined
  return (header) => {
    if (!want) throw Rejections.backupDisabled()
    const got = Array.isArray(header) ? header[0] : header
    if (!got) throw Rejections.missingKey()
    if (!timingSafeEqual(createHash('sha256').update(got).digest(), want)) throw Rejections.wrongKey()
  }
}
