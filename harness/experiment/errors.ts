// The experiment's one error family: a bad definition, caught before any process starts. Each
// issue names the file, the path inside it (`method[2].args.to`), what was expected and what was
// there; a file reports all its issues at once so one edit round fixes them all.

export interface Issue {
  /** Where in the experiment: `method[2].args.to`, `extends`, `line 3, column 5`, `--set "x=1"`. */
  path: string
  expected: string
  /** What was there, already described for humans (`"ten"`, `12`, `nothing`). */
  got: string
}

export class InvalidExperiment extends Error {
  readonly code = 'INVALID_EXPERIMENT'
  readonly file: string
  /** The first issue's fields, for callers that show one. */
  readonly path: string
  readonly expected: string
  readonly got: string
  readonly issues: Issue[]

  constructor(file: string, issues: Issue[]) {
    if (issues.length === 0) throw new TypeError('InvalidExperiment needs at least one issue')
    super(issues.map((i) => formatIssue(file, i)).join('\n'))
    this.name = 'InvalidExperiment'
    this.file = file
    this.issues = issues
    this.path = issues[0].path
    this.expected = issues[0].expected
    this.got = issues[0].got
  }
}

export function formatIssue(file: string, i: Issue): string {
  return `${file}: ${i.path}: expected ${i.expected}, got ${i.got}`
}

/** A value as a message shows it: strings quoted, objects as JSON (cut when long). */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing'
  if (v === null) return 'null'
  let s: string
  try {
    s = JSON.stringify(v) ?? String(v)
  } catch {
    s = String(v)
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}
