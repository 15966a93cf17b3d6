import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { detectPidsCgroups, RunCgroups, cleanStaleCgroups, removeCgroupTree, runIdPid } from '../../harness/platform/local/cgroups.js'

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

const V1 = '/sys/fs/cgroup/pids'
const v1Writable = (() => {
  try {
    fs.accessSync(V1, fs.constants.W_OK)
    return fs.existsSync(path.join(V1, 'cgroup.procs'))
  } catch {
    return false
  }
})()

t.test(
  'the last run to end removes the outage-lab parent cgroup; a run beside it keeps it (real cgroup v1)',
  { skip: v1Writable ? false : `${V1} is not a writable cgroup v1 pids hierarchy` },
  async (t) => {
    const base = path.join(V1, `outage-lab-parent-test-${process.pid}`)
    fs.mkdirSync(base)
    t.teardown(() => removeCgroupTree(base))
    const found = detectPidsCgroups({ OUTAGE_LAB_CGROUP_ROOT: base })
    if (found.kind === 'none') return t.fail(found.reason)
    const a = new RunCgroups(found, 'run-a')
    const b = new RunCgroups(found, 'run-b')
    a.create('kinesis-frontend-main-1', 20)
    b.create('kinesis-frontend-main-1', 20)
    t.ok(await a.removeAll())
    t.same(
      fs.readdirSync(found.root).filter((n) => n.startsWith('run-')),
      ['run-b'],
      'the parent stays while run-b is in it',
    )
    t.ok(await b.removeAll())
    t.notOk(fs.existsSync(found.root), 'the last run removed the empty parent')
    const c = new RunCgroups(found, 'run-c')
    const dir = c.create('kinesis-frontend-main-1', 20)
    t.equal(fs.readFileSync(path.join(dir, 'pids.max'), 'utf8').trim(), '20', 'a run starting after recreates the parent')
    t.ok(await c.removeAll())
    t.notOk(fs.existsSync(found.root))
  },
)
