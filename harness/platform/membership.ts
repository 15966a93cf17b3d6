// Fleet membership in the metadata service, over HTTP like any other client (docs/internals.md):
// the local backend registers members before they start and removes them before they stop. These
// are metadata's internal routes: every call carries the run's internal credential.
import { request } from 'undici'
import { internalHeaders } from '../../services/kit/internal.js'

async function call(method: 'PUT' | 'DELETE', url: string, token: string, body?: unknown): Promise<void> {
  const res = await request(url, {
    method,
    headers: { ...internalHeaders(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  })
  const text = await res.body.text()
  // A member already gone is what a DELETE wants.
  if (res.statusCode >= 300 && !(method === 'DELETE' && res.statusCode === 404)) {
    throw new Error(`${method} ${url} answered ${res.statusCode}: ${text.slice(0, 300)}`)
  }
}

export function registerMember(metadataUrl: string, fleet: string, id: string, member: { url: string; cell?: string }, token: string): Promise<void> {
  return call('PUT', `${metadataUrl}/fleets/${encodeURIComponent(fleet)}/members/${encodeURIComponent(id)}`, token, member)
}

export function deregisterMember(metadataUrl: string, fleet: string, id: string, token: string): Promise<void> {
  return call('DELETE', `${metadataUrl}/fleets/${encodeURIComponent(fleet)}/members/${encodeURIComponent(id)}`, token)
}

/**
 * Deletes every id the fleet's membership lists that is not in `current` (a member removed behind
 * the harness's back, a failed deregistration), so no peer keeps a thread for a ghost. Best effort.
 */
export async function deregisterGhosts(metadataUrl: string, fleet: string, current: Set<string>, token: string): Promise<void> {
  try {
    const res = await request(`${metadataUrl}/fleets/${encodeURIComponent(fleet)}/members`, {
      headers: internalHeaders(token),
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    })
    const body = (await res.body.json()) as { members?: { id: string }[] }
    for (const id of (body.members ?? []).map((x) => x.id).filter((id) => !current.has(id))) await deregisterMember(metadataUrl, fleet, id, token)
  } catch {}
}
