// A datapoint is what one MetricDatum becomes once accepted: an id (so a copy read back from the
// stream is recognised), the metric it belongs to, a timestamp and pre-aggregated statistics.
// The same shape travels through Kinesis, the local store's log and the query store.

export type Dimensions = Array<[name: string, value: string]>

export interface Datapoint {
  /** Unique per accepted datum: "<request id>:<index>". */
  id: string
  namespace: string
  metricName: string
  /** Sorted by name: the metric's identity does not depend on the order a client sent them in. */
  dimensions: Dimensions
  timestampMs: number
  unit: string
  sampleCount: number
  sum: number
  min: number
  max: number
  /** When PutMetricData accepted it (end-to-end ingestion delay). */
  acceptedAtMs: number
}

export function metricKey(namespace: string, metricName: string, dimensions: Dimensions): string {
  return JSON.stringify([namespace, metricName, dimensions])
}

/** The wire form inside a Kinesis record: compact arrays, one record per batch of datapoints. */
type WireDatapoint = [string, string, string, Dimensions, number, string, number, number, number, number, number]

export interface MetricRecord {
  v: 1
  /** Shipped from a host's local store (consumers de-duplicate these by id). */
  local?: true
  d: WireDatapoint[]
}

export function encodeRecord(datapoints: Datapoint[], local: boolean): Buffer {
  const rec: MetricRecord = {
    v: 1,
    d: datapoints.map((p) => [p.id, p.namespace, p.metricName, p.dimensions, p.timestampMs, p.unit, p.sampleCount, p.sum, p.min, p.max, p.acceptedAtMs]),
  }
  if (local) rec.local = true
  return Buffer.from(JSON.stringify(rec))
}

/** Undefined for bytes that are not a metric record (another producer's data on the stream). */
export function decodeRecord(data: Uint8Array): { local: boolean; datapoints: Datapoint[] } | undefined {
  let rec: MetricRecord
  try {
    rec = JSON.parse(Buffer.from(data).toString('utf8'))
  } catch {
    return undefined
  }
  if (rec?.v !== 1 || !Array.isArray(rec.d)) return undefined
  return {
    local: rec.local === true,
    datapoints: rec.d.map(([id, namespace, metricName, dimensions, timestampMs, unit, sampleCount, sum, min, max, acceptedAtMs]) => ({
      id,
      namespace,
      metricName,
      dimensions,
      timestampMs,
      unit,
      sampleCount,
      sum,
      min,
      max,
      acceptedAtMs,
    })),
  }
}

/** Splits datapoints into batches whose encoded record stays well under Kinesis's 1 MiB. */
export function batchForRecords(datapoints: Datapoint[], maxBytes = 256 * 1024): Datapoint[][] {
  const batches: Datapoint[][] = []
  let current: Datapoint[] = []
  let size = 0
  for (const p of datapoints) {
    const approx =
      120 + p.id.length + p.namespace.length + p.metricName.length + p.unit.length + p.dimensions.reduce((n, [k, v]) => n + k.length + v.length + 8, 0)
    if (current.length > 0 && size + approx > maxBytes) {
      batches.push(current)
      current = []
      size = 0
    }
    current.push(p)
    size += approx
  }
  if (current.length > 0) batches.push(current)
  return batches
}
