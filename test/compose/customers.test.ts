// A customer service on the compose platform that crashes at start: the run aborts with its name,
// its exit code and the path of its log (copied into the run folder), and leaves no container or
// network of the run's project. The customer is the fixture app of the local test
// (test/fixtures/customer-app.mjs), built into an image on the lab's own (node and the AWS SDK).
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { composeSkip, IMAGE, projectResources, runImages } from './skip.js'
import { runExperiment } from '../helpers/cli-run.js'
import { ROOT } from '../helpers/spawn.js'

const CRASH = `title: a customer that crashes at start, on compose
timeScale: 10
duration: 20s
seed: 3
topology:
  fleets:
    main: { frontends: 2, threadLimit: 64 }
  services: []
  customers:
    - name: shop
      command: [node, customer-app.mjs]
      build: shop
      port: 8080
      health: /health
      env: { FIXTURE_EXIT_AT_START: 3 }
      workload: { rate: 5, method: POST, path: /orders, body: '{"order": {{seq}}}' }
workload:
  rates: { kinesisPut: 10, kinesisGet: 2 }
steady-state-hypothesis:
  title: the shop takes orders
  probes:
    - { type: probe, name: shop-serves, service: shop, measure: successRatio, window: 2s, tolerance: { min: 0.9 } }
method:
  - { type: action, name: pause-a-moment, at: 1s, provider: wait, args: { for: 1s } }
`

t.test(
  'a customer that crashes at start aborts a compose run with its name, exit code and log, and leaves nothing',
  { skip: await composeSkip() },
  async (t) => {
    t.setTimeout(600_000)
    const dir = t.testdir({
      'crash.yaml': CRASH,
      shop: {
        'customer-app.mjs': fs.readFileSync(path.join(ROOT, 'test/fixtures/customer-app.mjs'), 'utf8'),
        // On the lab's image: /app/node_modules holds the AWS SDK the app imports.
        Dockerfile: `FROM ${IMAGE}\nCOPY customer-app.mjs /app/customer-app.mjs\nENTRYPOINT ["node", "/app/customer-app.mjs"]\n`,
      },
    })
    const out = path.join(dir, 'run')
    const r = await runExperiment(path.join(dir, 'crash.yaml'), out, { args: ['--platform', 'compose'] })
    const log = path.join(out, 'logs', 'shop.log')
    t.equal(r.code, 1, `an aborted run (stderr tail: ${r.stderr.slice(-1500)})`)
    t.match(r.stderr, `run aborted: customer shop exited before it was ready; exit code 3; log: ${log}`)
    t.equal(r.journal?.status, 'aborted')
    t.match(fs.readFileSync(log, 'utf8'), /refusing to start \(FIXTURE_EXIT_AT_START=3\)/, 'its log is in the run folder')
    t.same(projectResources(`outage-lab-${r.journal.runId}`), { containers: [], networks: [] }, 'no container or network of the run is left')
    t.same(runImages(r.journal.runId), [], 'nor the image built for its customer')
  },
)
