// examples/clickstream-py's unit tests (python3 -m unittest: the spool, backoff with jitter, the
// breaker, the shipper, the endpoints, the routes with fake boto3 clients), under every distinct
// python3 here that has boto3: Debian's (/usr/bin/python3, boto3 1.26, which ignores
// AWS_ENDPOINT_URL_*) and the one on PATH. Skipped when none has boto3. No lab service is started.
import t from 'tap'
import path from 'node:path'
import fs from 'node:fs'
import { spawnSync } from 'node:child_process'
import { ROOT } from '../helpers/spawn.js'

const DIR = path.join(ROOT, 'examples/clickstream-py')

function interpreters(): { python: string; boto3: string }[] {
  const seen = new Set<string>()
  const out: { python: string; boto3: string }[] = []
  for (const python of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(python, ['-c', 'import sys, boto3; print(sys.executable, boto3.__version__)'], { encoding: 'utf8' })
    if (r.status !== 0) continue
    const [exe, boto3] = r.stdout.trim().split(' ')
    const real = fs.realpathSync(exe)
    if (seen.has(real)) continue
    seen.add(real)
    out.push({ python, boto3 })
  }
  return out
}

const found = interpreters()
t.test('examples/clickstream-py unit tests', { skip: found.length === 0 ? 'no python3 with boto3 here' : false }, async (t) => {
  for (const { python, boto3 } of found) {
    const r = spawnSync(python, ['-m', 'unittest', 'discover', '-s', DIR, '-p', 'test_*.py'], {
      cwd: DIR,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    })
    const ran = /Ran (\d+) tests?/.exec(r.stderr)
    t.equal(r.status, 0, `${python} (boto3 ${boto3}): ${r.stderr.split('\n').slice(-4).join(' | ')}`)
    t.ok(ran && Number(ran[1]) >= 17, `${python}: ${ran?.[1] ?? 0} tests ran`)
  }
})
