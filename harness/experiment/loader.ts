// Reads an experiment file: YAML (syntax errors with line and column), `extends:` (a chain of base
// files, maps merged deeply, lists replaced, cycles refused), --set overrides and --seed, then the
// schema. Nothing here starts a process: a file that does not load never reaches the topology.
import fs from 'node:fs/promises'
import path from 'node:path'
import YAML from 'yaml'
import { isMap, type Obj } from './checker.js'
import { describe, InvalidExperiment, type Issue } from './errors.js'
import { applySets } from './sets.js'
import { BASE_DIR, validateExperiment } from './schema.js'
import type { Experiment } from './types.js'

export interface LoadOptions {
  /** `path=value` overrides, applied in order after `extends:` and before validation. */
  sets?: readonly string[]
  /** Wins over the file's `seed`. */
  seed?: number
}

/** A loaded file: its name as messages show it, and its YAML tree. */
interface Source {
  file: string
  abs: string
  doc: Obj
}

/** Loads, merges, overrides, validates. Throws InvalidExperiment naming the file and every issue. */
export async function loadExperiment(file: string, opts: LoadOptions = {}): Promise<Experiment> {
  const chain = await readChain(file)
  let merged: Obj = {}
  for (const source of [...chain].reverse()) {
    markCustomers(source.doc, path.dirname(source.abs))
    merged = mergeExperiment(merged, source.doc)
  }
  delete merged.extends

  // extends is resolved before the overrides: a --set of it could only be silently ignored.
  const sets = opts.sets ?? []
  const issues: Issue[] = sets
    .filter((s) => /^\s*extends\s*(=|\.|\[)/.test(s))
    .map((s) => ({ path: '--set', expected: 'a path other than extends (a base is chosen in the file)', got: describe(s) }))
  issues.push(
    ...applySets(
      merged,
      sets.filter((s) => !/^\s*extends\s*(=|\.|\[)/.test(s)),
    ),
  )
  if (opts.seed !== undefined) {
    if (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > 2 ** 31 - 1)
      issues.push({ path: '--seed', expected: `an integer in [0, ${2 ** 31 - 1}]`, got: describe(opts.seed) })
    else merged.seed = opts.seed
  }
  if (issues.length > 0) throw new InvalidExperiment(file, issues)
  // Customers a --set wrote whole are relative to the file given.
  markCustomers(merged, path.dirname(path.resolve(file)))

  const result = validateExperiment(merged)
  if (!result.ok) throw new InvalidExperiment(file, result.issues)
  return { file, files: chain.map((s) => s.file), ...result.experiment }
}

/** Marks each entry of `topology.customers` with the folder its paths are relative to (schema.ts, BASE_DIR), unless already marked. */
function markCustomers(doc: Obj, dir: string): void {
  const list = isMap(doc.topology) ? doc.topology.customers : undefined
  if (!Array.isArray(list)) return
  for (const entry of list) if (isMap(entry) && !(BASE_DIR in entry)) Object.defineProperty(entry, BASE_DIR, { value: dir, enumerable: false })
}

async function readChain(file: string): Promise<Source[]> {
  const chain: Source[] = []
  let current = { file, abs: path.resolve(file) }
  for (;;) {
    const doc = await readYaml(current.file, current.abs)
    chain.push({ ...current, doc })
    if (doc.extends === undefined || doc.extends === null) return chain
    if (typeof doc.extends !== 'string' || doc.extends.trim() === '') {
      throw new InvalidExperiment(current.file, [
        { path: 'extends', expected: 'the path of a base experiment, relative to this file', got: describe(doc.extends) },
      ])
    }
    const next = {
      // An absolute base (a user's file extending the lab's flagship) is shown as written.
      file: path.isAbsolute(doc.extends) ? path.normalize(doc.extends) : path.normalize(path.join(path.dirname(current.file), doc.extends)),
      abs: path.resolve(path.dirname(current.abs), doc.extends),
    }
    const loop = chain.findIndex((s) => s.abs === next.abs)
    if (loop >= 0) {
      const cycle = [...chain.slice(loop).map((s) => s.file), chain[loop].file].join(' -> ')
      throw new InvalidExperiment(current.file, [
        { path: 'extends', expected: 'a base experiment that does not extend this one again', got: `a cycle ${cycle}` },
      ])
    }
    try {
      await fs.access(next.abs)
    } catch {
      throw new InvalidExperiment(current.file, [
        { path: 'extends', expected: `a readable experiment file (${next.file})`, got: `${describe(doc.extends)}, which does not exist` },
      ])
    }
    current = next
  }
}

async function readYaml(file: string, abs: string): Promise<Obj> {
  let text: string
  try {
    text = await fs.readFile(abs, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new InvalidExperiment(file, [
      { path: '(file)', expected: 'a readable experiment file', got: code === 'ENOENT' ? 'no such file' : String(code ?? err) },
    ])
  }
  const parsed = YAML.parseDocument(text)
  if (parsed.errors.length > 0) {
    throw new InvalidExperiment(
      file,
      parsed.errors.map((e) => {
        const pos = e.linePos?.[0]
        return {
          path: pos ? `line ${pos.line}, column ${pos.col}` : '(yaml)',
          expected: 'valid YAML',
          got: e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''),
        }
      }),
    )
  }
  const doc = parsed.toJS()
  if (!isMap(doc)) throw new InvalidExperiment(file, [{ path: '(top level)', expected: 'a map of experiment keys (title, method, ...)', got: describe(doc) }])
  return doc
}

/**
 * `extends:` semantics: maps merge key by key (deeply), lists and scalars replace, and `null`
 * removes an inherited key.
 */
export function mergeExperiment(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base }
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k]
    else if (isMap(v) && isMap(out[k])) out[k] = mergeExperiment(out[k] as Obj, v)
    else out[k] = v
  }
  return out
}
