// The customer services (the user's own) of a run, as the summary and the report show them: their
// names in file order, and what each called of the lab in a few words (from journal.customers).
import type { Journal } from '../analyze/journal.js'

/** The names of a run's customer services (the user's own), in file order. */
export function customerNames(j: Pick<Journal, 'experiment' | 'customers'>): string[] {
  const names = (j.experiment?.topology?.customers ?? []).map((c) => c.name)
  for (const n of Object.keys(j.customers ?? {})) if (!names.includes(n)) names.push(n)
  return names
}

/** What a customer called of the lab, in a few words: `kinesis 240 calls (12 server errors; PutRecord 240; awsJson)`. */
export function calledText(j: Journal, name: string): string {
  const r = j.customers?.[name]
  if (!r || r.dependsOn.length === 0) return 'no call to the lab was counted under its key'
  return r.dependsOn
    .map((d) => {
      const c = r.calls[d]
      const ops = Object.entries(c.operations)
        .sort((a, b) => b[1] - a[1])
        .map(([op, n]) => `${op} ${n}`)
        .join(', ')
      const errors = [c.serverErrors ? `${c.serverErrors} server errors` : '', c.clientErrors ? `${c.clientErrors} client errors` : '']
        .filter(Boolean)
        .join(', ')
      return `${d} ${c.calls} calls (${[errors, ops, Object.keys(c.protocols).join('/')].filter(Boolean).join('; ')})`
    })
    .join('; ')
}
