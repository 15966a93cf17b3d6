// Bad input at scale: the fuzz of test/security/fuzz-aws.test.ts with many more requests (100,000 by
// default) over every surface of the lab built in this process (bench/lib/fuzz/): each AWS API in
// every wire protocol it speaks, Lambda's REST path, the status page, the control API, every admin
// and internal route. The figure: requests sent, answers by class per surface, 5xx and answers out
// of their protocol's shape (both must be 0), apps still serving after, requests/s and CPU seconds.
//   npx tsc -p . && node dist/bench/fuzz.js [--requests 100000] [--seed N] [--record]
// A failure names its seed and index: FUZZ_SEED=N FUZZ_REQUESTS=<index + 1> replays it in the test.
import { parseArgs } from 'node:util'
import { startLab } from './lib/fuzz/lab.js'
import { runFuzz, type FuzzReport } from './lib/fuzz/run.js'
import { machine, describeMachine, loadNow } from './lib/machine.js'
import { table, int } from './lib/markdown.js'
import { recordSection } from './lib/results.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: process.env.FUZZ_REQUESTS ?? '100000' },
    seed: { type: 'string', default: process.env.FUZZ_SEED ?? '20201125' },
    record: { type: 'boolean', default: false },
  },
})
const REQUESTS = Number(args.requests)
const SEED = Number(args.seed)
if (!Number.isInteger(REQUESTS) || REQUESTS < 1 || !Number.isInteger(SEED)) throw new Error('--requests and --seed take integers')

const m = machine()
console.log(`fuzz: ${describeMachine(m)}; seed ${SEED}, ${REQUESTS} requests`)
const lab = await startLab()
let report: FuzzReport
const cpu0 = process.cpuUsage()
try {
  report = await runFuzz(lab, { seed: SEED, requests: REQUESTS, probeEvery: 1000, onProgress: (n) => n % 10_000 === 0 && console.log(`  ${n} requests`) })
} finally {
  await lab.close()
}
const cpu = process.cpuUsage(cpu0)
const cpuS = (cpu.user + cpu.system) / 1e6

const klass = (statuses: Record<string, number>, test: (s: string) => boolean) =>
  Object.entries(statuses)
    .filter(([s]) => test(s))
    .reduce((n, [, v]) => n + v, 0)
const rows = Object.entries(report.surfaces)
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([surface, s]) => [
    surface,
    int(s.sent),
    int(klass(s.statuses, (x) => x.startsWith('2'))),
    int(klass(s.statuses, (x) => x.startsWith('4'))),
    int(klass(s.statuses, (x) => x.startsWith('5'))),
    int(klass(s.statuses, (x) => x === 'timeout')),
  ])
const fivexx = Object.values(report.surfaces).reduce((n, s) => n + klass(s.statuses, (x) => x.startsWith('5')), 0)
const body = [
  '## fuzz',
  '',
  `Machine: ${describeMachine(m)}; load average at the end ${loadNow()}.`,
  '',
  `\`node dist/bench/fuzz.js --requests ${REQUESTS} --seed ${SEED}\`: ${int(report.requests)} malformed requests (bench/lib/fuzz/: broken bodies, wrong types, ` +
    'unknown and missing targets, bad content types and encodings, missing, wrong and expired signatures, oversized fields, random bytes; ' +
    'some of them well formed) to every app of the lab built in one process, through inject(). ' +
    `${(report.durationMs / 1000).toFixed(1)} s, ${int(report.requests / (report.durationMs / 1000))} requests/s, ${cpuS.toFixed(1)} CPU seconds.`,
  '',
  table(['surface', 'requests', '2xx', '4xx', '5xx', 'no answer'], rows),
  '',
  `**5xx: ${fivexx}; answers out of their protocol's error shape or missing: ${report.failures.length - fivexx}; ` +
    `apps not serving a well-formed request after bad input (probed every 1,000 requests): ${report.liveness.length}.**`,
].join('\n')
console.log(`\n${body}\n`)
for (const f of report.failures.slice(0, 20))
  console.log(`FAIL #${f.index} ${f.surface} [${f.mutations.join(',')}] ${f.request.method} ${f.request.url}: ${f.why}`)
for (const l of report.liveness.slice(0, 20)) console.log(`NOT SERVING ${l}`)
if (args.record) {
  recordSection('fuzz', body)
  console.log('recorded in bench/RESULTS.md')
}
if (report.failures.length > 0 || report.liveness.length > 0) process.exitCode = 1
