import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { detectPidsCgroups, RunCgroups, cleanStaleCgroups, runIdPid } from '../../harness/platform/local/cgroups.js'

t.test('OUTAGE_LAB_CGROUPS=off turns cgroups off, with the reason', async (t) => {
  t.same(detectPidsCgroups({ OUTAGE_LAB_CGROUPS: 'off' }), { kind: 'none', reason: 'OUTAGE_LAB_CGROUPS=off' })
})

t.test('on this machine the detected pids hierarchy is writable, or the reason it is not is given', async (t) => {
  const found = detectPidsCgroups({})
  if (found.kind === 'none') t.match(found.reason, /\S/, `no cgroups: ${found.reason}`)
  else {
    t.match(found.root, /\/outage-lab$/)
    t.ok(fs.statSync(found.root).isDirectory())
  }
})

// A plain directory stands in for a delegated cgroup v2 subtree (a fake: this machine has no v2
// pids controller). It shows which files the backend writes, not that a kernel enforces them.
t.test('a delegated cgroup v2 subtree gets pids enabled down to each run, and pids.max per member (fake cgroupfs)', async (t) => {
  const base = t.testdir({ 'cgroup.controllers': 'cpu memory pids', 'cgroup.subtree_control': '' })
  const found = detectPidsCgroups({ OUTAGE_LAB_CGROUP_ROOT: base })
  t.same(found, { kind: 'v2', root: path.join(base, 'outage-lab') })
  t.equal(fs.readFileSync(path.join(base, 'cgroup.subtree_control'), 'utf8'), '+pids')
  t.equal(fs.readFileSync(path.join(base, 'outage-lab', 'cgroup.subtree_control'), 'utf8'), '+pids')
  if (found.kind === 'none') return
  const run = new RunCgroups(found, '20260101t000000-p1-abcd')
  const dir = run.create('kinesis-frontend-main-1', 40)
  t.equal(fs.readFileSync(path.join(run.dir, 'cgroup.subtree_control'), 'utf8'), '+pids', 'the run passes pids on to its members')
  t.equal(fs.readFileSync(path.join(dir, 'pids.max'), 'utf8'), '40')
  t.equal(run.procsFile('kinesis-frontend-main-1'), path.join(dir, 'cgroup.procs'))
})

t.test('run ids name their harness, so stale runs can be told from live ones', async (t) => {
  t.equal(runIdPid('20261125t101010-p4242-beef'), 4242)
  t.equal(runIdPid('my-own-run'), undefined)
  const root = t.testdir({ '20200101t000000-p999999999-dead': { 'member-1': {} } })
  t.same(cleanStaleCgroups(root), ['20200101t000000-p999999999-dead'])
  t.same(fs.readdirSync(root), [])
})
