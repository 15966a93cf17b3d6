// The on-disk record frame. A torn tail (the process killed mid-write, or power lost before the
// page cache reached the disk) shows up as a short frame or a CRC mismatch; recovery truncates
// the log there. Only unacknowledged records can be in a torn tail: an append is answered after
// the fdatasync that covers it.
//
//   u32 payload length | u32 CRC32(payload) | payload
//   payload: f64 arrival ms | f64 counter | u16 partition-key bytes | partition key (utf8) | data
//
// Little-endian. The ms and counter are the sequence number's variable parts (sequence.ts); the
// shard's prefix is implied by the file.
import zlib from 'node:zlib'

export const HEADER_BYTES = 8
export const FIXED_PAYLOAD_BYTES = 18
/** Kinesis's limits: 1 MiB of data plus partition key, partition keys of up to 256 characters. */
export const MAX_PAYLOAD_BYTES = FIXED_PAYLOAD_BYTES + 1024 * 1024 + 256 * 4

export const crc32: (data: Uint8Array) => number = typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) : tableCrc32

/** Upper bound of a frame's size, before base64 decoding tells the exact one. */
export function frameBound(partitionKey: string, dataBase64: string): number {
  return HEADER_BYTES + FIXED_PAYLOAD_BYTES + Buffer.byteLength(partitionKey, 'utf8') + Buffer.byteLength(dataBase64, 'base64')
}

/**
 * Writes one frame at `off` (buf must have frameBound() bytes free) and returns the frame's end.
 * Base64 is decoded straight into the frame: no intermediate Buffer per record.
 */
export function writeFrame(buf: Buffer, off: number, ms: number, sub: number, partitionKey: string, dataBase64: string): number {
  const payload = off + HEADER_BYTES
  buf.writeDoubleLE(ms, payload)
  buf.writeDoubleLE(sub, payload + 8)
  const pkBytes = buf.write(partitionKey, payload + FIXED_PAYLOAD_BYTES, 'utf8')
  buf.writeUInt16LE(pkBytes, payload + 16)
  const dataStart = payload + FIXED_PAYLOAD_BYTES + pkBytes
  const dataBytes = dataBase64.length === 0 ? 0 : buf.write(dataBase64, dataStart, 'base64')
  const end = dataStart + dataBytes
  buf.writeUInt32LE(end - payload, off)
  buf.writeUInt32LE(crc32(buf.subarray(payload, end)), off + 4)
  return end
}

export interface Frame {
  ms: number
  sub: number
  partitionKey: string
  data: Buffer
  /** Frame size including its header. */
  bytes: number
}

/** Decodes the frame at off, trusting it (reads of what recovery already checked). */
export function readFrame(buf: Buffer, off: number): Frame {
  const len = buf.readUInt32LE(off)
  const payload = off + HEADER_BYTES
  const pkBytes = buf.readUInt16LE(payload + 16)
  const pkStart = payload + FIXED_PAYLOAD_BYTES
  return {
    ms: buf.readDoubleLE(payload),
    sub: buf.readDoubleLE(payload + 8),
    partitionKey: buf.toString('utf8', pkStart, pkStart + pkBytes),
    data: buf.subarray(pkStart + pkBytes, payload + len),
    bytes: HEADER_BYTES + len,
  }
}

export type FrameCheck = { ok: true; bytes: number } | { ok: false; reason: 'short' | 'length' | 'crc' }

/** Whether a whole, intact frame starts at off. */
export function checkFrame(buf: Buffer, off: number, end: number): FrameCheck {
  if (end - off < HEADER_BYTES) return { ok: false, reason: 'short' }
  const len = buf.readUInt32LE(off)
  if (len < FIXED_PAYLOAD_BYTES || len > MAX_PAYLOAD_BYTES) return { ok: false, reason: 'length' }
  if (end - off < HEADER_BYTES + len) return { ok: false, reason: 'short' }
  const payload = off + HEADER_BYTES
  if (buf.readUInt16LE(payload + 16) > len - FIXED_PAYLOAD_BYTES) return { ok: false, reason: 'length' }
  if (crc32(buf.subarray(payload, payload + len)) !== buf.readUInt32LE(off + 4)) return { ok: false, reason: 'crc' }
  return { ok: true, bytes: HEADER_BYTES + len }
}

// Node < 20.15 has no zlib.crc32; the engines field allows 20.18+, this keeps older 20s honest.
let table: Uint32Array | undefined
function tableCrc32(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      table[n] = c >>> 0
    }
  }
  let crc = 0xffffffff
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

export const _tableCrc32ForTests = tableCrc32
