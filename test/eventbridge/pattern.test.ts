// Event-pattern matching, table-driven: each row is a pattern, an event, and whether it matches.
import t from 'tap'
import { compilePattern, matches, InvalidPattern } from '../../services/eventbridge/pattern.js'

const event = {
  version: '0',
  id: 'e-1',
  'detail-type': 'ECS Task State Change',
  source: 'outage-lab.autoscaler',
  account: '000000000000',
  time: '2020-11-25T13:15:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:ecs:us-east-1:000000000000:task/a', 'arn:aws:ecs:us-east-1:000000000000:task/b'],
  detail: {
    lastStatus: 'RUNNING',
    desiredCount: 3,
    cpu: 0.5,
    nothing: null,
    flag: true,
    tags: ['blue', 'canary'],
    cluster: { name: 'web', region: 'us-east-1' },
    containers: [
      { name: 'app', exitCode: 0 },
      { name: 'sidecar', exitCode: 137 },
    ],
  },
}

const rows: [string, unknown, boolean][] = [
  // exact values, OR within a list, AND across fields
  ['exact source', { source: ['outage-lab.autoscaler'] }, true],
  ['exact source, other value', { source: ['outage-lab.lambda'] }, false],
  ['one of several values', { source: ['x', 'outage-lab.autoscaler'] }, true],
  ['detail-type and source together', { source: ['outage-lab.autoscaler'], 'detail-type': ['ECS Task State Change'] }, true],
  ['all fields must match', { source: ['outage-lab.autoscaler'], 'detail-type': ['Other'] }, false],
  ['nested detail field', { detail: { lastStatus: ['RUNNING'] } }, true],
  ['nested detail field, other value', { detail: { lastStatus: ['STOPPED'] } }, false],
  ['two levels deep', { detail: { cluster: { name: ['web'] } } }, true],
  ['number equality', { detail: { desiredCount: [3] } }, true],
  ['number does not equal its string', { detail: { desiredCount: ['3'] } }, false],
  ['null value', { detail: { nothing: [null] } }, true],
  ['boolean value', { detail: { flag: [true] } }, true],
  ['any element of an event array', { detail: { tags: ['canary'] } }, true],
  ['event array, no element matches', { detail: { tags: ['red'] } }, false],
  ['resources array', { resources: ['arn:aws:ecs:us-east-1:000000000000:task/b'] }, true],
  ['array of objects: any element', { detail: { containers: { exitCode: [137] } } }, true],
  ['array of objects: fields of one element', { detail: { containers: { name: ['app'], exitCode: [0] } } }, true],
  ['missing field', { detail: { missing: ['x'] } }, false],
  ['an object is not a value', { detail: { cluster: ['web'] } }, false],
  // prefix / suffix / equals-ignore-case
  ['prefix', { source: [{ prefix: 'outage-lab.' }] }, true],
  ['prefix, no match', { source: [{ prefix: 'aws.' }] }, false],
  ['prefix on a number does not match', { detail: { desiredCount: [{ prefix: '3' }] } }, false],
  ['suffix', { source: [{ suffix: '.autoscaler' }] }, true],
  ['equals-ignore-case', { detail: { lastStatus: [{ 'equals-ignore-case': 'running' }] } }, true],
  // anything-but
  ['anything-but value', { detail: { lastStatus: [{ 'anything-but': 'STOPPED' }] } }, true],
  ['anything-but the value itself', { detail: { lastStatus: [{ 'anything-but': 'RUNNING' }] } }, false],
  ['anything-but list', { detail: { lastStatus: [{ 'anything-but': ['STOPPED', 'PENDING'] }] } }, true],
  ['anything-but list containing it', { detail: { lastStatus: [{ 'anything-but': ['STOPPED', 'RUNNING'] }] } }, false],
  ['anything-but number', { detail: { desiredCount: [{ 'anything-but': [1, 2] }] } }, true],
  ['anything-but prefix', { source: [{ 'anything-but': { prefix: 'aws.' } }] }, true],
  ['anything-but prefix it has', { source: [{ 'anything-but': { prefix: 'outage-lab' } }] }, false],
  ['anything-but never matches a missing field', { detail: { missing: [{ 'anything-but': 'x' }] } }, false],
  // exists
  ['exists true', { detail: { lastStatus: [{ exists: true }] } }, true],
  ['exists true on a missing field', { detail: { missing: [{ exists: true }] } }, false],
  ['exists false on a missing field', { detail: { missing: [{ exists: false }] } }, true],
  ['exists false on a present field', { detail: { lastStatus: [{ exists: false }] } }, false],
  ['exists false under a missing parent (patterns are field paths)', { detail: { nowhere: { deeper: [{ exists: false }] } } }, true],
  ['exists true under a missing parent', { detail: { nowhere: { deeper: [{ exists: true }] } } }, false],
  // numeric
  ['numeric =', { detail: { desiredCount: [{ numeric: ['=', 3] }] } }, true],
  ['numeric <', { detail: { desiredCount: [{ numeric: ['<', 3] }] } }, false],
  ['numeric <=', { detail: { desiredCount: [{ numeric: ['<=', 3] }] } }, true],
  ['numeric >', { detail: { cpu: [{ numeric: ['>', 0.25] }] } }, true],
  ['numeric range inside', { detail: { desiredCount: [{ numeric: ['>=', 0, '<', 10] }] } }, true],
  ['numeric range outside', { detail: { desiredCount: [{ numeric: ['>', 3, '<=', 10] }] } }, false],
  ['numeric on a string does not match', { detail: { lastStatus: [{ numeric: ['>', 0] }] } }, false],
  ['numeric on an array element', { detail: { containers: { exitCode: [{ numeric: ['>', 100] }] } } }, true],
  // OR of matcher kinds within one list
  ['mixed list: exact or prefix', { source: ['nope', { prefix: 'outage' }] }, true],
]

for (const [name, pattern, want] of rows) {
  t.test(`${name}: ${want ? 'matches' : 'does not match'}`, async (t) => {
    t.equal(matches(compilePattern(JSON.stringify(pattern)), event), want, JSON.stringify(pattern))
  })
}

const invalid: [string, string, RegExp][] = [
  ['not JSON', '{"source": [', /not valid JSON/],
  ['not an object', '["a"]', /Filter is not an object/],
  ['empty pattern', '{}', /Filter is empty/],
  ['a bare value instead of a list', '{"source": "a"}', /"source" must be an object or an array, got "a"/],
  ['an empty list', '{"source": []}', /"source" is an empty array/],
  ['an empty nested object', '{"detail": {}}', /"detail" is an empty object/],
  ['unknown matcher', '{"source": [{"wildcard": "a*"}]}', /"source": unrecognized match type wildcard/],
  ['two keys in a matcher', '{"source": [{"prefix": "a", "suffix": "b"}]}', /exactly one key/],
  ['prefix not a string', '{"source": [{"prefix": 1}]}', /prefix match pattern must be a string/],
  ['exists not a boolean', '{"detail": {"a": [{"exists": "yes"}]}}', /"detail.a": exists match pattern must be either true or false/],
  ['numeric odd length', '{"n": [{"numeric": [">", 1, "<"]}]}', /numeric takes \[op, n\]/],
  ['numeric bad operator', '{"n": [{"numeric": ["!=", 1]}]}', /operator must be one of/],
  ['numeric non-number', '{"n": [{"numeric": [">", "1"]}]}', /value after ">" must be a number/],
  ['numeric range upside down', '{"n": [{"numeric": ["<", 10, ">=", 0]}]}', /lower bound \(> or >=\) followed by an upper bound/],
  ['numeric empty range', '{"n": [{"numeric": [">", 10, "<", 0]}]}', /lower bound above its upper bound/],
  ['numeric out of range', '{"n": [{"numeric": [">", 6e9]}]}', /\[-5e9, 5e9\]/],
  ['anything-but mixed list', '{"s": [{"anything-but": ["a", 1]}]}', /only strings or only numbers/],
  ['anything-but empty list', '{"s": [{"anything-but": []}]}', /must not be empty/],
  ['anything-but bad object', '{"s": [{"anything-but": {"exists": true}}]}', /anything-but takes/],
  ['a nested list value', '{"s": [["a"]]}', /match value must be/],
]

for (const [name, text, message] of invalid) {
  t.test(`invalid pattern (${name}) is refused with a reason`, async (t) => {
    let err: unknown
    try {
      compilePattern(text)
    } catch (e) {
      err = e
    }
    t.ok(err instanceof InvalidPattern, 'throws InvalidPattern')
    t.match((err as Error)?.message, message)
  })
}
