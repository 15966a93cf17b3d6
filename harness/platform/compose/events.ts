// The engine's container events of one compose project, as the platform needs them: a container
// died (with its exit code), or one started that the platform may not have started itself (a
// restart policy).
import type { Dockerode } from './docker.js'

export interface ContainerDied {
  id?: string
  code: number | null
}

export interface ProjectEvents {
  died(e: ContainerDied): void
  started(id: string): void
}

interface EngineEvent {
  id?: string
  Action?: string
  status?: string
  Actor?: { Attributes?: Record<string, string> }
}

/** Follows `die` and `start` events until the returned stream is destroyed. */
export async function watchProjectEvents(d: Dockerode, project: string, on: ProjectEvents): Promise<{ destroy?: () => void }> {
  const stream = await d.getEvents({ filters: { type: ['container'], event: ['die', 'start'], label: [`com.docker.compose.project=${project}`] } })
  let buffered = ''
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    let nl: number
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      let e: EngineEvent
      try {
        e = JSON.parse(line) as EngineEvent
      } catch {
        continue
      }
      if (e.Action === 'die' || e.status === 'die') {
        const code = Number(e.Actor?.Attributes?.exitCode)
        on.died({ id: e.id, code: Number.isFinite(code) ? code : null })
      } else if (e.id) on.started(e.id)
    }
  })
  stream.on('error', () => {})
  return stream
}
