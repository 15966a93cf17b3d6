// What operators post cannot run in a reader's browser: a message with a script element, an event
// handler and quotes that would close an attribute comes back as text in the page; the fields that
// land inside attributes (component, status) take only their fixed values, so a quote never reaches
// an attribute. The page's Content-Security-Policy forbids scripts besides.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { buildApp } from '../../services/status-page/app.js'
import { UpdateLog } from '../../services/status-page/updates.js'

const KEY = 'backup-operator-key-0123456789'

async function statusPage(t: Tap.Test) {
  const log = await UpdateLog.open(path.join(t.testdir(), 'updates.jsonl'))
  const app = buildApp({ log, cognitoUrl: 'http://127.0.0.1:9', operatorKey: KEY, logger: false })
  t.teardown(() => app.close())
  const post = (body: unknown) => app.inject({ method: 'POST', url: '/api/backup/updates', headers: { 'x-operator-key': KEY }, payload: body as object })
  return { app, post }
}

const HOSTILE = [
  '<script>alert(1)</script>',
  '"><script>alert(2)</script>',
  "'><img src=x onerror=alert(3)>",
  '" onmouseover="alert(4)" x="',
  "' onfocus='alert(5)' autofocus='",
  '</p></li></ol><script src=//evil.example/x.js></script>',
  '<svg/onload=alert(6)>',
  '&lt;script&gt;already escaped&lt;/script&gt;',
]

t.test('posted messages with scripts and attribute-breaking quotes come back escaped', async (t) => {
  const { app, post } = await statusPage(t)
  for (const message of HOSTILE) t.equal((await post({ message, component: 'kinesis', status: 'outage' })).statusCode, 201, message)
  const res = await app.inject({ method: 'GET', url: '/' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-security-policy'], /default-src 'none'/, 'no script may run at all')
  t.notMatch(res.body, /<script|<img|<svg/i, 'no element of a post survives as markup')
  // Every quote inside a tag is one of the page's own: attribute values are the page's, never a post's.
  for (const tag of res.body.match(/<[a-z][^>]*>/g) ?? []) t.notMatch(tag, /\son[a-z]+=|alert/i, `tag ${tag.slice(0, 60)}`)
  const escaped = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
  for (const message of HOSTILE) t.ok(res.body.includes(`<p class="message">${escaped(message)}</p>`), `shown as text: ${message}`)
  const api = (await app.inject({ method: 'GET', url: '/api/status' })).json()
  t.same(api.updates.map((u: { message: string }) => u.message).sort(), [...HOSTILE].sort(), 'the JSON API returns the text as posted (JSON is not HTML)')
})

t.test('component and status, which the page puts in attributes, refuse anything but their values', async (t) => {
  const { app, post } = await statusPage(t)
  for (const body of [
    { message: 'm', component: 'kinesis', status: '" onmouseover="alert(1)' },
    { message: 'm', component: 'kinesis', status: 'outage"><script>alert(1)</script>' },
    { message: 'm', component: '"><script>alert(1)</script>' },
    { message: 'm', component: "kinesis' onfocus='alert(1)" },
  ]) {
    const res = await post(body)
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.equal(res.json().__type, 'ValidationException')
  }
  t.notMatch((await app.inject({ method: 'GET', url: '/' })).body, /<script|onmouseover|onfocus/)
})

// A real browser: what the escaping above must achieve is that nothing posted runs. Chromium renders
// the page from a file (no Content-Security-Policy header, so only the escaping stands between a post
// and the reader) and dumps the DOM after scripts ran; each hostile post tries to set the title.
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p))

function renderedTitle(file: string): string {
  const r = spawnSync(
    CHROMIUM!,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      `--user-data-dir=${path.dirname(file)}/chromium`,
      '--virtual-time-budget=3000',
      '--dump-dom',
      `file://${file}`,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  )
  if (r.status !== 0) throw new Error(`chromium exited ${r.status}: ${r.stderr.slice(-500)}`)
  return /<title>([^<]*)<\/title>/.exec(r.stdout)?.[1] ?? ''
}

t.test('in Chromium, no posted script runs', { skip: CHROMIUM ? false : 'no Chromium installed' }, async (t) => {
  const { app, post } = await statusPage(t)
  const scripts = [
    "<script>document.title='pwned'</script>",
    '<img src=x onerror="document.title=\'pwned\'">',
    '<svg/onload="document.title=\'pwned\'">',
    "\"><script>document.title='pwned'</script>",
    '<iframe srcdoc="<script>parent.document.title=\'pwned\'</script>"></iframe>',
  ]
  for (const message of scripts) t.equal((await post({ message, component: 'kinesis', status: 'outage' })).statusCode, 201)
  const html = (await app.inject({ method: 'GET', url: '/' })).body
  const dir = t.testdir()
  const page = path.join(dir, 'page.html')
  fs.writeFileSync(page, html)
  // The control: the same page with one post left unescaped does run it, so the check can fail.
  const control = path.join(dir, 'control.html')
  fs.writeFileSync(control, html.replace('</body>', `${scripts[0]}</body>`))
  t.equal(renderedTitle(control), 'pwned', 'an unescaped script does run in this browser (the control)')
  t.not(renderedTitle(page), 'pwned', 'none of the posted scripts ran')
})
