// report.html and compare.html in a real browser: headless Chromium (Debian's package, installed
// by .ci/chromium.sh) driven by playwright-core. Each page must draw without a console error or a
// network request, every chart must have painted its series, the cascade graph must list the
// impacted services in onset order, and nothing may overflow a laptop-sized window. Screenshots
// are saved in the run folders (runs/browser-test/...). Set OUTAGE_LAB_REPORT_RUNS to run folders
// (comma-separated, e.g. runs/latest) to re-render real runs and screenshot them as well.
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { chromium, type Browser, type Page } from 'playwright-core'
import { writeOutputs } from '../../harness/run/outputs.js'
import { readTimeline } from '../../harness/observe/timeline.js'
import { compareHtml } from '../../harness/report/compare-html.js'
import type { Journal, TimelineRow } from '../../harness/analyze/journal.js'
import { syntheticRun } from './fixture.js'

const CANDIDATES = [
  process.env.OUTAGE_LAB_CHROMIUM,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/google-chrome',
].filter((p): p is string => !!p)
const executablePath = CANDIDATES.find((p) => fs.existsSync(p))
const OUT = path.resolve('runs', 'browser-test')

/** Writes a run folder the way `outage-lab run` does: journal.json and timeline.jsonl, then the outputs. */
function writeRun(dir: string, journal: Journal, rows: readonly TimelineRow[]): void {
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'timeline.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n')
  writeOutputs(dir, journal)
}

interface Opened {
  page: Page
  problems: string[]
}

async function open(browser: Browser, file: string, width = 1280): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width, height: 900 } })
  const problems: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('request', (r) => {
    if (!/^(file|data|blob):/.test(r.url())) problems.push(`network request: ${r.url()}`)
  })
  await page.goto(`file://${file}`)
  await page
    .waitForFunction(() => document.documentElement.hasAttribute('data-charts-drawn'), null, { timeout: 15_000 })
    .catch((err) => problems.push(`charts never drawn: ${err.message}`))
  return { page, problems }
}

/** Per chart: its canvas size, painted pixels, and pixels in one of its series' colours. */
async function paint(page: Page) {
  return page.evaluate(() => {
    const data = JSON.parse(document.getElementById('report-data')!.textContent!)
    const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16))
    return [...document.querySelectorAll<HTMLElement>('[data-panel], [data-lane], [data-impact]')].map((el) => {
      const id = el.dataset.panel ?? (el.dataset.lane ? `lane:${el.dataset.lane}` : 'impact')
      const panel = data.panels.find((p: any) => p.id === el.dataset.panel)
      // Greys are left out: anti-aliased text and grid lines are grey too. The impact bars are orange (recovered) or red.
      const colors: number[][] = (panel ? panel.series.map((s: any) => rgb(s.color)) : id === 'impact' ? [rgb('#e08a00'), rgb('#c62828')] : []).filter(
        (c: number[]) => Math.max(...c) - Math.min(...c) > 40,
      )
      const canvas = el.querySelector('canvas')
      if (!canvas) return { id, width: 0, painted: 0, inSeriesColor: 0 }
      const img = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
      let painted = 0
      let inSeriesColor = 0
      for (let i = 0; i < img.length; i += 4) {
        if (img[i + 3] === 0) continue
        painted++
        if (colors.some((c) => Math.abs(c[0] - img[i]) + Math.abs(c[1] - img[i + 1]) + Math.abs(c[2] - img[i + 2]) < 30)) inSeriesColor++
      }
      return { id, width: canvas.width, painted, inSeriesColor }
    })
  })
}

async function checkLayout(t: Tap.Test, page: Page, width: number) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  t.ok(overflow <= 0, `nothing overflows a ${width} px window (${overflow} px)`)
}

t.test(
  'the report pages in headless Chromium',
  { skip: executablePath ? false : 'no chromium binary (run .ci/chromium.sh, or set OUTAGE_LAB_CHROMIUM)' },
  async (t) => {
    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] })
    t.teardown(() => browser.close())
    const flagship = syntheticRun()
    const remediation = syntheticRun({ cognitoSustains: true, threadAlarm: true, jitterMs: 1_000 })
    const runA = path.join(OUT, 'synthetic-flagship')
    const runB = path.join(OUT, 'synthetic-remediation-9')
    writeRun(runA, flagship.journal, flagship.rows)
    writeRun(runB, remediation.journal, remediation.rows)

    t.test('report.html', async (t) => {
      const { page, problems } = await open(browser, path.join(runA, 'report.html'))
      t.same(problems, [], 'no console error, page error or network request')
      const charts = await paint(page)
      t.same(
        charts.map((c) => c.id),
        ['impact', 'success', 'p99', 'threads', 'shardmap', 'buffer-cognito', 'buffer-lambda', 'alarms', 'tasks', 'delivery', 'lane:published'],
        'the impact bars, nine charts and the 2020 lane',
      )
      for (const c of charts) {
        t.ok(c.width > 600, `${c.id}: a canvas ${c.width} px wide`)
        t.ok(c.painted > 1_000, `${c.id}: painted (${c.painted} px)`)
        if (!c.id.startsWith('lane:')) t.ok(c.inSeriesColor > 100, `${c.id}: its series drew (${c.inSeriesColor} px in their colours)`)
      }
      const ranked = await page.$$eval('svg.cascade-graph g.node[data-rank]', (nodes) => nodes.map((n) => n.getAttribute('data-service')))
      t.same(
        ranked,
        flagship.journal.cascade.map((c) => c.service),
        'the graph lists the impacted services in onset order',
      )
      t.same(ranked, ['kinesis', 'cloudwatch', 'eventbridge', 'autoscaler', 'lambda', 'cognito'])
      const listed = await page.$$eval('#cascade-order li', (li) => li.map((l) => l.getAttribute('data-service')))
      t.same(listed, ranked)
      const box = await page.locator('svg.cascade-graph').boundingBox()
      t.ok(box && box.width > 900 && box.height > 250, `the graph is drawn large enough to read (${box?.width}x${box?.height})`)
      t.equal(await page.locator('#verdict .card').count(), 5, 'the verdict: status, expectations, fidelity, blast radius, time to recover')
      await checkLayout(t, page, 1280)
      await page.screenshot({ path: path.join(runA, 'report.png'), fullPage: true })
      t.ok(fs.statSync(path.join(runA, 'report.png')).size > 50_000, 'screenshot saved in the run folder')
      // A smaller laptop: the charts follow the window.
      await page.setViewportSize({ width: 1024, height: 768 })
      await page.waitForTimeout(400)
      await checkLayout(t, page, 1024)
      const widths = await page.$$eval('[data-panel] canvas', (cs) => cs.map((c) => c.getBoundingClientRect().width))
      t.ok(
        widths.every((w) => w <= 1024),
        'the charts shrank with the window',
      )
      t.same(problems, [], 'and still no error')
      await page.close()
    })

    t.test('report.html of the remediation run', async (t) => {
      const { page, problems } = await open(browser, path.join(runB, 'report.html'))
      t.same(problems, [])
      const ranked = await page.$$eval('svg.cascade-graph g.node[data-rank]', (nodes) => nodes.map((n) => n.getAttribute('data-service')))
      t.same(ranked, ['kinesis', 'cloudwatch', 'eventbridge', 'autoscaler', 'lambda'], 'Cognito is not in the cascade')
      t.equal(await page.locator('svg.cascade-graph g.node.healthy[data-service="cognito"]').count(), 1, 'Cognito is drawn healthy')
      await page.screenshot({ path: path.join(runB, 'report.png'), fullPage: true })
      await page.close()
    })

    t.test('compare.html', async (t) => {
      const file = path.join(OUT, 'compare.html')
      const runs = [runA, runB].map((dir) => ({
        source: dir,
        journal: JSON.parse(fs.readFileSync(path.join(dir, 'journal.json'), 'utf8')) as Journal,
        rows: readTimeline(path.join(dir, 'timeline.jsonl')),
      }))
      fs.writeFileSync(file, compareHtml(runs, 'flagship vs remediation 9'))
      const { page, problems } = await open(browser, file)
      t.same(problems, [], 'no console error, page error or network request')
      const charts = await paint(page)
      t.ok(charts.length >= 10, `${charts.length} overlaid charts`)
      for (const c of charts) t.ok(c.inSeriesColor > 100, `${c.id}: the runs drew (${c.inSeriesColor} px)`)
      const cognito = await page.$$eval('#impact-matrix td[data-service="cognito"]', (tds) =>
        tds.map((td) => [td.getAttribute('data-run'), td.getAttribute('data-impacted')]),
      )
      t.same(
        cognito,
        [
          ['A', 'true'],
          ['B', 'false'],
        ],
        'the matrix shows the remediation kept Cognito up',
      )
      await checkLayout(t, page, 1280)
      await page.screenshot({ path: path.join(OUT, 'compare.png'), fullPage: true })
      t.ok(fs.statSync(path.join(OUT, 'compare.png')).size > 50_000, 'screenshot saved beside compare.html')
      await page.close()
    })

    // Real runs, when asked: re-render each (like `outage-lab report`) and look at it the same way.
    for (const dir of (process.env.OUTAGE_LAB_REPORT_RUNS ?? '').split(',').filter(Boolean)) {
      t.test(`the real run ${dir}`, async (t) => {
        const journal = JSON.parse(fs.readFileSync(path.join(dir, 'journal.json'), 'utf8')) as Journal
        writeOutputs(path.resolve(dir), journal)
        const { page, problems } = await open(browser, path.resolve(dir, 'report.html'))
        t.same(problems, [])
        const ranked = await page.$$eval('svg.cascade-graph g.node[data-rank]', (nodes) => nodes.map((n) => n.getAttribute('data-service')))
        t.same(
          ranked,
          journal.cascade.map((c) => c.service),
        )
        for (const c of await paint(page)) t.ok(c.painted > 0, `${c.id}: painted`)
        await page.screenshot({ path: path.resolve(dir, 'report.png'), fullPage: true })
        await page.close()
      })
    }
  },
)
