// When a stream is deleted its shards' owners are told to drop their logs, so a stream created
// again under the same name starts empty, as in Kinesis. Best effort: an unreachable back-end is
// logged, and the deletion stands (the authoritative store decides what exists).
import { request, type Dispatcher } from 'undici'
import type { FastifyBaseLogger } from 'fastify'
import type { Stream, Backend } from './store.js'

export async function dropStreamOnOwners(stream: Stream, backends: Backend[], dispatcher: Dispatcher, log: FastifyBaseLogger): Promise<void> {
  const owners = new Set(stream.shards.map((s) => s.owner))
  await Promise.all(
    backends
      .filter((b) => owners.has(b.id))
      .map(async (b) => {
        try {
          const res = await request(`${b.url}/streams/${encodeURIComponent(stream.name)}`, { method: 'DELETE', dispatcher })
          await res.body.dump()
          if (res.statusCode >= 300) log.warn({ backend: b.id, status: res.statusCode, stream: stream.name }, 'back-end refused to drop a deleted stream')
        } catch (err) {
          log.warn({ backend: b.id, stream: stream.name, err: (err as Error).message }, 'could not tell a back-end to drop a deleted stream')
        }
      }),
  )
}
