// What the observer reads from every /metrics: samples back from the text format, and nothing of
// the answer kept alive by the names it hands on (a long run scrapes 14 services every second).
import t from 'tap'
import { parsePromText, seriesKey } from '../../harness/observe/prom-text.js'
import { fullGc as gc } from '../../services/kit/memory.js'

t.test('samples, labels (escapes undone) and stable series keys', async (t) => {
  const s = parsePromText(
    ['# HELP lab_x a help line', 'lab_x{service="a",op="Put",msg="say \\"hi\\"\\nbye"} 3', 'lab_up 1', 'lab_inf +Inf', 'bad line here', 'lab_nan NaN'].join(
      '\n',
    ),
  )
  t.same(
    s.map((x) => [x.name, x.labels, x.value]),
    [
      ['lab_x', { service: 'a', op: 'Put', msg: 'say "hi"\nbye' }, 3],
      ['lab_up', {}, 1],
      ['lab_inf', {}, Infinity],
    ],
  )
  t.equal(seriesKey(s[0]), 'lab_x{msg="say "hi"\nbye",op="Put"}', 'service is left out, labels sorted')
})

t.test('a kept series key does not hold the answer it came from', async (t) => {
  const answer = (i: number) => Array.from({ length: 400 }, (_, j) => `lab_series_${j}{op="Put"} ${i}`).join('\n') + `\nlab_in_flight ${i}\n`
  gc()
  const before = process.memoryUsage().heapUsed
  const kept: string[] = []
  for (let i = 0; i < 2_000; i++) {
    const samples = parsePromText(answer(i))
    kept.push(seriesKey(samples[samples.length - 1]))
  }
  gc()
  const perKey = (process.memoryUsage().heapUsed - before) / kept.length
  // Each answer is about 11 KB: a key that kept its answer would cost that much.
  t.ok(perKey < 1_000, `${Math.round(perKey)} bytes a kept key`)
  t.equal(new Set(kept).size, 1)
})
