// Experiment files for the tests: a valid base written into a fresh directory, and a loader that
// reports messages with that directory shown as DIR (so expected messages are exact strings).
import fs from 'node:fs'
import path from 'node:path'
import { loadExperiment, InvalidExperiment, type LoadOptions } from '../../harness/experiment/index.js'

export const VALID = `title: Kinesis front-end fleet crosses its OS thread limit
description: the 2020-11-25 trigger, compressed
tags: [kinesis, cascade]
timeScale: 10
duration: 100s
seed: 7
topology:
  fleets:
    main: { frontends: 4, threadLimit: 18, bootstrap: peers, learnDelay: 3s }
  services: [cognito, cloudwatch, eventbridge, autoscaler, lambda, status-page]
workload:
  clientTimeout: 2s
  rates: { kinesisPut: 20 }
steady-state-hypothesis:
  title: customers are served
  probes:
    - { name: kinesis-available, type: probe, service: kinesis, measure: successRatio, window: 3s, tolerance: { min: 0.99 } }
method:
  - { type: action, name: add-capacity, at: 10s, provider: scale-fleet, args: { fleet: main, to: 10 } }
  - { type: probe, name: every-frontend-broken, at: 40s, service: kinesis, metric: 'kinesis_frontend_shard_map_state{state="broken"}', aggregate: min, window: 2s, tolerance: { min: 1 } }
  - { type: action, name: remove-capacity, at: 50s, provider: scale-fleet, args: { fleet: main, to: 4 } }
  - { type: action, name: paced-restart, at: 60s, provider: restart-fleet, args: { fleet: main, ratePerSec: 1 } }
rollbacks:
  - { type: action, name: restore-fleet, provider: restart-fleet, args: { fleet: main, all: true } }
expect:
  impacted: [kinesis, cloudwatch, eventbridge, lambda, cognito]
  onsetOrder: [[kinesis], [cloudwatch, eventbridge], [lambda], [cognito]]
  recovered: true
`

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    fs.writeFileSync(path.join(dir, name), text)
  }
}

/** The message of the InvalidExperiment a load throws, with the directory shown as DIR. */
export async function failure(dir: string, file: string, opts?: LoadOptions): Promise<string> {
  try {
    await loadExperiment(path.join(dir, file), opts)
  } catch (err) {
    if (err instanceof InvalidExperiment) return err.message.split(dir).join('DIR')
    throw err
  }
  return '(loaded without error)'
}
