// Configuration from the environment (kit/config.ts): a bad value stops a service at start with an
// error naming the variable and what was expected.
import t, { type Test } from 'tap'
import { envBool, envCredentials, envEnum, envInt, envString, InvalidConfig } from '../../services/kit/index.js'

function refused(t: Test, fn: () => unknown, variable: string, message: string): void {
  try {
    fn()
    t.fail(`${variable}: accepted`)
  } catch (err) {
    t.type(err, InvalidConfig)
    t.equal((err as InvalidConfig).variable, variable)
    t.equal((err as Error).message, message)
  }
}

t.test('strings: a required variable that is missing or empty names itself', async (t) => {
  t.equal(envString({ FLEET: 'main' }, 'FLEET'), 'main')
  t.equal(envString({}, 'FLEET', 'main'), 'main')
  t.equal(envString({ FLEET: '' }, 'FLEET', 'main'), 'main', 'empty counts as unset')
  refused(t, () => envString({}, 'METADATA_URL'), 'METADATA_URL', 'environment variable METADATA_URL: expected a non-empty string, got nothing')
  refused(t, () => envString({ METADATA_URL: '' }, 'METADATA_URL'), 'METADATA_URL', 'environment variable METADATA_URL: expected a non-empty string, got ""')
})

t.test('integers: not a number, a fraction or out of range names the variable and the range', async (t) => {
  t.equal(envInt({ PORT: '4100' }, 'PORT', { min: 0, max: 65535 }), 4100)
  t.equal(envInt({ PORT: ' 42 ' }, 'PORT'), 42, 'surrounding spaces are tolerated')
  t.equal(envInt({}, 'HEALTH_INTERVAL_MS', { fallback: 1000 }), 1000)
  t.equal(envInt({ OFFSET: '-5' }, 'OFFSET', { min: -10 }), -5)
  refused(t, () => envInt({}, 'PORT', { min: 0, max: 65535 }), 'PORT', 'environment variable PORT: expected an integer in [0, 65535], got nothing')
  refused(t, () => envInt({ PORT: 'http' }, 'PORT', { min: 0, max: 65535 }), 'PORT', 'environment variable PORT: expected an integer in [0, 65535], got "http"')
  refused(
    t,
    () => envInt({ THREAD_LIMIT: '1.5' }, 'THREAD_LIMIT', { min: 1, max: 100 }),
    'THREAD_LIMIT',
    'environment variable THREAD_LIMIT: expected an integer in [1, 100], got "1.5"',
  )
  refused(
    t,
    () => envInt({ THREAD_LIMIT: '0' }, 'THREAD_LIMIT', { min: 1, max: 100 }),
    'THREAD_LIMIT',
    'environment variable THREAD_LIMIT: expected an integer in [1, 100], got "0"',
  )
  refused(
    t,
    () => envInt({ THREAD_LIMIT: '101' }, 'THREAD_LIMIT', { min: 1, max: 100 }),
    'THREAD_LIMIT',
    'environment variable THREAD_LIMIT: expected an integer in [1, 100], got "101"',
  )
})

t.test('booleans and enums accept their spellings and refuse the rest by name', async (t) => {
  for (const yes of ['1', 'true', 'YES', 'on']) t.equal(envBool({ OUTAGE_LAB_WATCH_PARENT: yes }, 'OUTAGE_LAB_WATCH_PARENT', false), true, yes)
  for (const no of ['0', 'false', 'No', 'off']) t.equal(envBool({ OUTAGE_LAB_WATCH_PARENT: no }, 'OUTAGE_LAB_WATCH_PARENT', true), false, no)
  t.equal(envBool({}, 'OUTAGE_LAB_WATCH_PARENT', true), true)
  refused(
    t,
    () => envBool({ OUTAGE_LAB_WATCH_PARENT: 'maybe' }, 'OUTAGE_LAB_WATCH_PARENT', false),
    'OUTAGE_LAB_WATCH_PARENT',
    'environment variable OUTAGE_LAB_WATCH_PARENT: expected true or false, got "maybe"',
  )

  t.equal(envEnum({ BOOTSTRAP: 'metadata' }, 'BOOTSTRAP', ['peers', 'metadata'] as const, 'peers'), 'metadata')
  t.equal(envEnum({}, 'BOOTSTRAP', ['peers', 'metadata'] as const, 'peers'), 'peers')
  refused(
    t,
    () => envEnum({ BOOTSTRAP: 'Peers' }, 'BOOTSTRAP', ['peers', 'metadata'] as const, 'peers'),
    'BOOTSTRAP',
    'environment variable BOOTSTRAP: expected one of peers, metadata, got "Peers"',
  )
})

t.test('credentials: AKID:SECRET pairs, a malformed list names the variable', async (t) => {
  t.same([...envCredentials({}, 'OUTAGE_LAB_CREDENTIALS', 'AKIDOUTAGELAB:outage-lab-secret')], [['AKIDOUTAGELAB', 'outage-lab-secret']])
  t.same(
    [...envCredentials({ OUTAGE_LAB_CREDENTIALS: 'A:x, B:y:z' }, 'OUTAGE_LAB_CREDENTIALS', 'unused')],
    [
      ['A', 'x'],
      ['B', 'y:z'],
    ],
    'a secret may hold colons',
  )
  for (const bad of ['AKID', ':secret', 'AKID:', 'A:x,,B:y']) {
    refused(
      t,
      () => envCredentials({ OUTAGE_LAB_CREDENTIALS: bad }, 'OUTAGE_LAB_CREDENTIALS', 'unused'),
      'OUTAGE_LAB_CREDENTIALS',
      `environment variable OUTAGE_LAB_CREDENTIALS: expected AKID:SECRET pairs separated by commas, got ${JSON.stringify(bad)}`,
    )
  }
})
