// What a wire protocol needs to know about an operation's input and output beyond the JSON shape a
// handler reads and returns. Handlers speak the AWS JSON shape (blobs as base64 strings, timestamps as
// epoch seconds); CBOR carries blobs as byte strings and timestamps as tag 1, awsQuery carries every
// value as a string and lists as `.member.N`, so the protocol layer converts at the boundary, led by
// these shapes. A structure may list only the members that need converting: the others pass as they
// are (JSON and CBOR) or stay strings (awsQuery).

export type Shape =
  | { type: 'string' }
  | { type: 'integer' }
  | { type: 'double' }
  | { type: 'boolean' }
  | { type: 'timestamp' }
  | { type: 'blob' }
  | { type: 'list'; member: Shape }
  | { type: 'map'; key: Shape; value: Shape }
  | StructureShape

export interface StructureShape {
  type: 'structure'
  members: Record<string, Shape>
}

export interface OperationShapes {
  input?: StructureShape
  /** Absent: the operation has no output (rpcv2Cbor answers no body, awsQuery no <OpResult>). */
  output?: StructureShape
}

export const shape = {
  string: { type: 'string' },
  integer: { type: 'integer' },
  double: { type: 'double' },
  boolean: { type: 'boolean' },
  timestamp: { type: 'timestamp' },
  blob: { type: 'blob' },
  list: (member: Shape): Shape => ({ type: 'list', member }),
  map: (key: Shape, value: Shape): Shape => ({ type: 'map', key, value }),
  structure: (members: Record<string, Shape>): StructureShape => ({ type: 'structure', members }),
} as const satisfies Record<string, Shape | ((...args: never[]) => Shape)>

/** The member's shape, when the structure declares it (own properties only: input names are the caller's). */
export function memberShape(s: Shape | undefined, name: string): Shape | undefined {
  return s?.type === 'structure' && Object.hasOwn(s.members, name) ? s.members[name] : undefined
}
