// EventBridge event patterns: compiled once when a rule is put (so a bad pattern fails PutRule with
// InvalidEventPatternException, never the consumer), then matched against every event envelope.
// Semantics follow the EventBridge docs: keys AND together, the values of one array OR together,
// an event field holding an array matches when any element does, and only leaves are matched.

export class InvalidPattern extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'InvalidPattern'
  }
}

type Leaf = (value: unknown, present: boolean) => boolean
interface Node {
  fields: Map<string, Node | Leaf[]>
}
export interface CompiledPattern {
  source: string
  root: Node
}

/** EventBridge's documented range for numeric matching. */
const NUMERIC_LIMIT = 5e9
const MAX_PATTERN_BYTES = 4096

export function compilePattern(text: string): CompiledPattern {
  if (typeof text !== 'string' || text.length === 0) throw new InvalidPattern('pattern is empty')
  if (Buffer.byteLength(text) > MAX_PATTERN_BYTES) throw new InvalidPattern(`pattern is longer than ${MAX_PATTERN_BYTES} bytes`)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new InvalidPattern(`pattern is not valid JSON (${(err as Error).message})`)
  }
  if (!isObject(parsed)) throw new InvalidPattern('Filter is not an object')
  if (Object.keys(parsed).length === 0) throw new InvalidPattern('Filter is empty: give at least one field to match')
  return { source: text, root: compileNode(parsed, '') }
}

function compileNode(obj: Record<string, unknown>, path: string): Node {
  const fields = new Map<string, Node | Leaf[]>()
  for (const [key, value] of Object.entries(obj)) {
    const at = path ? `${path}.${key}` : key
    if (isObject(value)) {
      if (Object.keys(value).length === 0) throw new InvalidPattern(`"${at}" is an empty object: a nested filter needs at least one field`)
      fields.set(key, compileNode(value, at))
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new InvalidPattern(`"${at}" is an empty array: give at least one value to match`)
      fields.set(
        key,
        value.map((m) => compileMatcher(m, at)),
      )
    } else {
      throw new InvalidPattern(`"${at}" must be an object or an array, got ${JSON.stringify(value)}`)
    }
  }
  return { fields }
}

function compileMatcher(m: unknown, at: string): Leaf {
  if (m === null || typeof m === 'string' || typeof m === 'boolean') return (v, present) => present && v === m
  if (typeof m === 'number') return (v, present) => present && typeof v === 'number' && v === m
  if (!isObject(m)) throw new InvalidPattern(`"${at}": match value must be a string, number, true, false, null or a matcher object, got ${JSON.stringify(m)}`)
  const keys = Object.keys(m)
  if (keys.length !== 1) throw new InvalidPattern(`"${at}": a matcher object has exactly one key, got ${keys.length ? keys.join(', ') : 'none'}`)
  const kind = keys[0]
  const arg = m[kind]
  switch (kind) {
    case 'prefix':
      return stringTest(arg, at, 'prefix', (v, p) => v.startsWith(p))
    case 'suffix':
      return stringTest(arg, at, 'suffix', (v, s) => v.endsWith(s))
    case 'equals-ignore-case':
      return stringTest(arg, at, 'equals-ignore-case', (v, s) => v.toLowerCase() === s.toLowerCase())
    case 'exists':
      if (typeof arg !== 'boolean') throw new InvalidPattern(`"${at}": exists match pattern must be either true or false, got ${JSON.stringify(arg)}`)
      return (_v, present) => present === arg
    case 'numeric':
      return numeric(arg, at)
    case 'anything-but':
      return anythingBut(arg, at)
    default:
      throw new InvalidPattern(`"${at}": unrecognized match type ${kind} (outage-lab knows prefix, suffix, equals-ignore-case, anything-but, numeric, exists)`)
  }
}

function stringTest(arg: unknown, at: string, kind: string, test: (v: string, arg: string) => boolean): Leaf {
  if (typeof arg !== 'string') throw new InvalidPattern(`"${at}": ${kind} match pattern must be a string, got ${JSON.stringify(arg)}`)
  return (v, present) => present && typeof v === 'string' && test(v, arg)
}

function anythingBut(arg: unknown, at: string): Leaf {
  // anything-but never matches a missing field: there is nothing to be "anything but".
  if (typeof arg === 'string' || typeof arg === 'number' || typeof arg === 'boolean' || arg === null) return (v, present) => present && v !== arg
  if (Array.isArray(arg)) {
    if (arg.length === 0) throw new InvalidPattern(`"${at}": anything-but list must not be empty`)
    const allStrings = arg.every((x) => typeof x === 'string')
    const allNumbers = arg.every((x) => typeof x === 'number')
    if (!allStrings && !allNumbers) throw new InvalidPattern(`"${at}": anything-but list must hold only strings or only numbers, got ${JSON.stringify(arg)}`)
    const set = new Set<unknown>(arg)
    return (v, present) => present && !set.has(v)
  }
  if (isObject(arg)) {
    const keys = Object.keys(arg)
    if (keys.length === 1 && (keys[0] === 'prefix' || keys[0] === 'suffix')) {
      const s = arg[keys[0]]
      if (typeof s !== 'string' || s.length === 0)
        throw new InvalidPattern(`"${at}": anything-but ${keys[0]} must be a non-empty string, got ${JSON.stringify(s)}`)
      const hit = keys[0] === 'prefix' ? (v: string) => v.startsWith(s) : (v: string) => v.endsWith(s)
      return (v, present) => present && typeof v === 'string' && !hit(v)
    }
    throw new InvalidPattern(`"${at}": anything-but takes a value, a list, {"prefix": ...} or {"suffix": ...}, got ${JSON.stringify(arg)}`)
  }
  throw new InvalidPattern(`"${at}": anything-but takes a value, a list, {"prefix": ...} or {"suffix": ...}, got ${JSON.stringify(arg)}`)
}

const LOWER = new Set(['>', '>='])
const UPPER = new Set(['<', '<='])

function numeric(arg: unknown, at: string): Leaf {
  const bad = (why: string) => new InvalidPattern(`"${at}": numeric ${why}, got ${JSON.stringify(arg)}`)
  if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4)) throw bad('takes [op, n] or [lower-op, n, upper-op, n]')
  const tests: Array<(v: number) => boolean> = []
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i]
    const n = arg[i + 1]
    if (typeof n !== 'number' || !Number.isFinite(n)) throw bad(`value after "${op}" must be a number`)
    if (n < -NUMERIC_LIMIT || n > NUMERIC_LIMIT) throw bad(`values must lie in [-5e9, 5e9]`)
    if (typeof op !== 'string' || !['=', '<', '<=', '>', '>='].includes(op)) throw bad(`operator must be one of =, <, <=, >, >=`)
    tests.push(compare(op, n))
  }
  if (arg.length === 4) {
    // A range is a lower bound then an upper bound, and must not be empty.
    if (!LOWER.has(arg[0]) || !UPPER.has(arg[2])) throw bad('range must be a lower bound (> or >=) followed by an upper bound (< or <=)')
    if (arg[1] > arg[3]) throw bad('range has its lower bound above its upper bound')
  }
  return (v, present) => present && typeof v === 'number' && tests.every((t) => t(v))
}

function compare(op: string, n: number): (v: number) => boolean {
  switch (op) {
    case '=':
      return (v) => v === n
    case '<':
      return (v) => v < n
    case '<=':
      return (v) => v <= n
    case '>':
      return (v) => v > n
    default:
      return (v) => v >= n
  }
}

export function matches(pattern: CompiledPattern, event: unknown): boolean {
  return matchNode(pattern.root, event)
}

function matchNode(node: Node, value: unknown): boolean {
  // An array of objects matches when one of its elements does.
  if (Array.isArray(value)) return value.some((el) => matchNode(node, el))
  const obj = isObject(value) ? value : undefined
  for (const [key, rule] of node.fields) {
    const present = obj !== undefined && Object.hasOwn(obj, key)
    const child = present ? obj![key] : undefined
    if (Array.isArray(rule)) {
      if (!matchLeaf(rule, child, present)) return false
    } else if (!matchNode(rule, child)) {
      // A missing parent is matched as "every field below is absent", as EventBridge flattens a
      // pattern into field paths: {"a": {"b": [{"exists": false}]}} matches an event without "a".
      return false
    }
  }
  return true
}

function matchLeaf(leaves: Leaf[], value: unknown, present: boolean): boolean {
  // Only leaves match: a field holding an object is not a value.
  if (present && isObject(value)) return false
  if (present && Array.isArray(value)) {
    if (value.length === 0) return leaves.some((l) => l(undefined, false))
    return value.some((el) => !isObject(el) && leaves.some((l) => l(el, true)))
  }
  return leaves.some((l) => l(value, present))
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
