// The body of a posted update: {message, component?, status?}. Checked before anything is stored.
import { COMPONENT_NAME, STATUSES, type ComponentStatus } from './components.js'
import { Rejections } from './errors.js'

export const MAX_MESSAGE_CHARS = 4_000

export interface PostBody {
  message: string
  component: string | null
  status: ComponentStatus | null
}

export function postBody(body: unknown, components: readonly string[]): PostBody {
  // fastify parses text/plain too: a string body is a poster who forgot the content type.
  if (typeof body === 'string') throw Rejections.invalid('send the update as JSON (content-type: application/json)')
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw Rejections.invalid('the body must be a JSON object: {"message": "...", "component"?: "...", "status"?: "operational|degraded|outage"}')
  const b = body as Record<string, unknown>
  for (const key of Object.keys(b)) {
    if (key !== 'message' && key !== 'component' && key !== 'status')
      throw Rejections.invalid(`unknown field ${JSON.stringify(key)}: expected message, component, status`)
  }
  if (typeof b.message !== 'string' || b.message.trim() === '') throw Rejections.invalid('message: expected a non-empty string')
  if (b.message.length > MAX_MESSAGE_CHARS) throw Rejections.invalid(`message: at most ${MAX_MESSAGE_CHARS} characters, got ${b.message.length}`)
  let component: string | null = null
  if (b.component !== undefined && b.component !== null) {
    if (typeof b.component !== 'string' || !COMPONENT_NAME.test(b.component) || !components.includes(b.component)) {
      throw Rejections.invalid(`component: expected one of ${components.join(', ')}, got ${JSON.stringify(b.component)}`)
    }
    component = b.component
  }
  let status: ComponentStatus | null = null
  if (b.status !== undefined && b.status !== null) {
    if (typeof b.status !== 'string' || !(STATUSES as readonly string[]).includes(b.status))
      throw Rejections.invalid(`status: expected one of ${STATUSES.join(', ')}, got ${JSON.stringify(b.status)}`)
    if (component === null) throw Rejections.invalid('status: a status needs the component it applies to')
    status = b.status as ComponentStatus
  }
  return { message: b.message.trim(), component, status }
}
