// --set path=value: overrides applied to the merged experiment before it is validated, so a bad
// value is reported like one written in the file. Paths name keys and list indices the way
// messages do: `topology.fleets.main.threadLimit`, `method[2].args.to`.
import YAML from 'yaml'
import { isMap } from './checker.js'
import { describe, type Issue } from './errors.js'

export type PathToken = string | number

const SET_EXPECTED = 'path=value with a path like topology.fleets.main.threadLimit or method[2].args.to'
const KEY = /^[A-Za-z_][A-Za-z0-9_-]*/
const INDEX = /^\[(\d+)\]/

/** `method[2].args.to` -> ['method', 2, 'args', 'to']; undefined when malformed. */
export function parseSetPath(path: string): PathToken[] | undefined {
  const tokens: PathToken[] = []
  let rest = path
  let first = true
  while (rest.length > 0) {
    if (!first) {
      const idx = INDEX.exec(rest)
      if (idx) {
        tokens.push(Number(idx[1]))
        rest = rest.slice(idx[0].length)
        continue
      }
      if (rest[0] !== '.') return undefined
      rest = rest.slice(1)
    }
    const key = KEY.exec(rest)
    if (!key) return undefined
    tokens.push(key[0])
    rest = rest.slice(key[0].length)
    first = false
  }
  return tokens.length > 0 ? tokens : undefined
}

/** A value as YAML reads a scalar: `10` a number, `true` a boolean, `2s` a string, `[a, b]` a list. */
export function parseSetValue(raw: string): unknown {
  try {
    return YAML.parse(raw)
  } catch {
    return raw
  }
}

function pathText(tokens: PathToken[]): string {
  return tokens.map((t, i) => (typeof t === 'number' ? `[${t}]` : i === 0 ? t : `.${t}`)).join('')
}

/**
 * Applies each `path=value` to `doc` in place (missing maps on the way are created). Returns the
 * issues of the sets that could not be applied.
 */
export function applySets(doc: unknown, sets: readonly string[]): Issue[] {
  const issues: Issue[] = []
  for (const set of sets) {
    const eq = set.indexOf('=')
    const tokens = eq > 0 ? parseSetPath(set.slice(0, eq).trim()) : undefined
    if (!tokens) {
      issues.push({ path: '--set', expected: SET_EXPECTED, got: describe(set) })
      continue
    }
    const issue = setAt(doc, tokens, parseSetValue(set.slice(eq + 1)))
    if (issue) issues.push(issue)
  }
  return issues
}

function setAt(doc: unknown, tokens: PathToken[], value: unknown): Issue | undefined {
  let node = doc
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    const last = i === tokens.length - 1
    const here = `--set ${pathText(tokens.slice(0, i + 1))}`
    if (typeof token === 'number') {
      if (!Array.isArray(node)) return { path: here, expected: `a list at ${pathText(tokens.slice(0, i))} to index`, got: describe(node) }
      if (token >= node.length) {
        const range = node.length === 0 ? 'no index (the list is empty)' : `an index in [0, ${node.length - 1}]`
        return { path: here, expected: `${range} (${pathText(tokens.slice(0, i))} has ${node.length} entries)`, got: String(token) }
      }
      if (last) node[token] = value
      else node = node[token]
      continue
    }
    if (!isMap(node)) return { path: here, expected: `a map at ${pathText(tokens.slice(0, i)) || 'the top level'} to set a key in`, got: describe(node) }
    if (last) node[token] = value
    else {
      if (node[token] === undefined || node[token] === null) {
        if (typeof tokens[i + 1] === 'number') return { path: here, expected: 'an existing list to index', got: 'nothing' }
        node[token] = {}
      }
      node = node[token]
    }
  }
  return undefined
}
