// A stand-in for a CloudWatch that works or fails on cue: a real HTTP server on 127.0.0.1 that
// speaks the PutMetricData call of CloudWatch's JSON 1.0 protocol (SigV4-verified, gzip bodies as
// the SDK compresses them), counts the datums it accepted, and, when told to fail, answers as an
// ailing CloudWatch does (500 InternalFailure) or stops answering. The real CloudWatch service of
// this project needs a Kinesis behind it; this lets the Lambda tests break CloudWatch alone.
import http from 'node:http'
import { gunzipSync } from 'node:zlib'
import { verifySigV4 } from '../../services/kit/index.js'
import { CREDENTIALS } from '../helpers/spawn.js'

export type StandInMode = 'ok' | 'fail' | 'hang'

export interface CloudWatchStandIn {
  url: string
  mode: StandInMode
  /** Datums accepted, by metric name. */
  accepted: Map<string, number>
  acceptedDatums(): number
  /** Every accepted datum (for checks of dimensions and values). */
  datums: any[]
  /** PutMetricData calls answered with an error or left hanging. */
  refused: number
  close(): Promise<void>
}

export async function startCloudWatchStandIn(opts: { keepDatums?: boolean } = {}): Promise<CloudWatchStandIn> {
  const keys = new Map([[CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey]])
  const hanging = new Set<http.ServerResponse>()
  const state: CloudWatchStandIn = {
    url: '',
    mode: 'ok',
    accepted: new Map(),
    datums: [],
    refused: 0,
    acceptedDatums: () => [...state.accepted.values()].reduce((a, b) => a + b, 0),
    close: async () => {
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    },
  }
  const answer = (res: http.ServerResponse, status: number, body: object) => {
    const data = Buffer.from(JSON.stringify(body))
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': data.length,
      ...(status >= 400 ? { 'x-amzn-errortype': (body as any).__type } : {}),
    })
    res.end(data)
  }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      try {
        verifySigV4({ method: req.method!, url: req.url!, headers: req.headers, body: raw }, { keys, service: 'monitoring' })
      } catch (err: any) {
        return answer(res, 400, { __type: err.type, message: err.message })
      }
      if (req.headers['x-amz-target'] !== 'GraniteServiceVersion20100801.PutMetricData') {
        return answer(res, 400, { __type: 'UnknownOperationException', message: `stand-in serves PutMetricData only, got ${req.headers['x-amz-target']}` })
      }
      if (state.mode === 'fail') {
        state.refused++
        return answer(res, 500, { __type: 'InternalFailure', message: 'The request processing has failed because of an unknown error, exception or failure.' })
      }
      if (state.mode === 'hang') {
        state.refused++
        hanging.add(res)
        res.on('close', () => hanging.delete(res))
        return
      }
      const body = JSON.parse((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'))
      for (const d of body.MetricData ?? []) {
        state.accepted.set(d.MetricName, (state.accepted.get(d.MetricName) ?? 0) + 1)
        if (opts.keepDatums) state.datums.push({ Namespace: body.Namespace, ...d })
      }
      answer(res, 200, {})
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  state.url = `http://127.0.0.1:${(server.address() as any).port}`
  return state
}
