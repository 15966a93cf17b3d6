// Deletes from ./node_modules every package the lockfile marks dev-only ("dev": true), so the
// image carries production dependencies only, without npm or a registry (the base image may be
// a bare node binary). Usage: node prune-dev-deps.mjs [APP_DIR]
import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'

const dir = path.resolve(process.argv[2] ?? '.')
const lock = JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8'))
if (!lock.packages) {
  process.stderr.write('prune-dev-deps: package-lock.json has no "packages" (lockfileVersion >= 2 needed)\n')
  process.exit(2)
}
let removed = 0
for (const [key, meta] of Object.entries(lock.packages)) {
  if (key.startsWith('node_modules/') && meta.dev) {
    rmSync(path.join(dir, key), { recursive: true, force: true })
    removed++
  }
}
// Binaries of removed packages leave dangling links behind.
rmSync(path.join(dir, 'node_modules', '.bin'), { recursive: true, force: true })
console.log(`prune-dev-deps: removed ${removed} dev-only packages`)
