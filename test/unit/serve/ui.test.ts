import {describe, expect, it} from 'vitest'
import {lines, stackedBars, usageBar} from '../../../src/serve/ui/charts.js'
import {escapeHtml, html, query, raw} from '../../../src/serve/ui/html.js'
import {page, postButton} from '../../../src/serve/ui/layout.js'
import {clustersPage} from '../../../src/serve/ui/pages/clusters.js'
import {sourcesPage} from '../../../src/serve/ui/pages/sources.js'
import {taskPage} from '../../../src/serve/ui/pages/task.js'
import {cookieValue, sameToken, sessionCookie, type Session} from '../../../src/serve/ui/session.js'
import {errorsByField, FormError, taskFromForm} from '../../../src/serve/ui/submit-form.js'
import type {TaskView} from '../../../src/serve/views.js'

const EVIL = `<script>alert("x")</script>' onload="x" \`y\` &amp;`
const admin: Session = {keyName: 'boss', scope: 'admin', csrf: 'tok'}
const viewer: Session = {keyName: 'viewer', scope: 'read', csrf: 'tok2'}

describe('html', () => {
  it('escapes every interpolated string, and nothing made by html or raw', () => {
    expect(escapeHtml(EVIL)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onload=&quot;x&quot; &#96;y&#96; &amp;amp;')
    const inner = html`<b>${EVIL}</b>`
    expect(html`<p title="${EVIL}">${inner}${raw('<i>ok</i>')}${[EVIL, 1]}${undefined}${false}</p>`.text).toBe(
      `<p title="${escapeHtml(EVIL)}"><b>${escapeHtml(EVIL)}</b><i>ok</i>${escapeHtml(EVIL)}1</p>`,
    )
    expect(query({a: 'x y', b: '', c: undefined, d: 2})).toBe('?a=x+y&d=2')
  })

  it('pages escape what users wrote: spec values, details, names in attributes', () => {
    const task: TaskView = {
      id: 't-1', name: 'pi', kind: 'spec', state: 'FAILED', cluster: 'etl', clusters: ['etl'], priority: 0, retries: 0, runs: 1,
      createdAt: '2026-12-03T20:00:00.000Z', createdBy: 'ci', updatedAt: '2026-12-03T20:00:00.000Z', demand: {cores: 1, memoryMb: 512},
      spec: {app: 'pi.py', conf: {'spark.x': EVIL}}, attempts: [{n: 1, cluster: 'etl', engine: 'spark', engineName: 'pi-q-1', state: 'FAILED', submittedAt: '2026-12-03T20:00:00.000Z', detail: EVIL}],
    }
    const out = taskPage({task, events: [{at: '2026-12-03T20:00:00.000Z', to: 'QUEUED', actor: EVIL, detail: EVIL}], session: admin, notice: EVIL}).text
    expect(out).not.toContain('<script>')
    expect(out).not.toContain('onload="x"')
    expect(out).toContain(escapeHtml(JSON.stringify(EVIL)).slice(0, 20))
    const autoscale = {policy: 'min=1,max=3,idle=15m,wait=1m', state: 'growing' as const, reason: EVIL, events: [{at: '2026-12-03T20:00:00.000Z', kind: 'grow-failed', detail: EVIL}]}
    const clusters = clustersPage({clusters: [{name: 'c"><script>', provider: 'docker', engine: 'spark', health: 'healthy', down: EVIL, checkedAt: '2026-12-03T20:00:00.000Z', hosts: 2, queued: 0, submitted: 0, running: 0, autoscale}]}).text
    expect(clusters).not.toContain('<script>')
    expect(clusters).toContain('<strong>grow-failed</strong>')
    expect(clusters).toContain('min=1,max=3,idle=15m,wait=1m')
    const dying = taskPage({task: {...task, state: 'RUNNING', killRequested: {by: EVIL, at: '2026-12-03T20:01:00.000Z'}}, events: [], session: admin}).text
    expect(dying).toContain(`Being killed: asked for by ${escapeHtml(EVIL)} <time datetime="2026-12-03T20:01:00.000Z">`)
    expect(taskPage({task, events: [], session: admin}).text).not.toContain('Being killed')
  })

  it('a read-only key sees no buttons and no Submit or Keys page; every form carries the CSRF token', () => {
    const task = {id: 't', name: 'pi', kind: 'spec', state: 'SUCCEEDED', cluster: 'etl', clusters: ['etl'], priority: 0, retries: 0, runs: 1, createdAt: 'x', createdBy: 'ci', updatedAt: 'x', demand: {cores: 1, memoryMb: 1}, attempts: []} as TaskView
    const asViewer = page({title: 'T', session: viewer, body: taskPage({task, events: [], session: viewer})})
    expect(asViewer).not.toMatch(/<button type="submit"(?: class="danger")?>(Kill|Rerun|Delete)/)
    expect(asViewer).not.toContain('href="/ui/submit"')
    expect(asViewer).not.toContain('href="/ui/keys"')
    const asAdmin = page({title: 'T', session: admin, body: taskPage({task, events: [], session: admin})})
    expect(asAdmin).toContain('>Rerun</button>')
    expect(asAdmin).toContain('href="/ui/keys"')
    for (const form of asAdmin.match(/<form method="post"[\s\S]*?<\/form>/g)!) expect(form).toContain('name="_csrf" value="tok"')
    expect(postButton(admin, '/ui/x', 'Go').text).toBe('<form class="inline" method="post" action="/ui/x"><input type="hidden" name="_csrf" value="tok"><button type="submit">Go</button></form>')
  })
})

describe('session helpers', () => {
  it("the Sources page shows each source's origin; an admin may remove those made through the API only", () => {
    const sources = [
      {name: 'drop', kind: 'directory', origin: 'file' as const, from: '/srv/drop', queued: 1, refused: 0},
      {name: 'bus', kind: 'rabbitmq', origin: 'api' as const, from: 'amqp://cms:***@mq/ queue q', lastError: EVIL, queued: 0, refused: 2},
    ]
    const forAdmin = sourcesPage({sources, session: admin}).text
    expect(forAdmin).toContain('<td>file</td>')
    expect(forAdmin).toContain('<td>API</td>')
    expect(forAdmin).not.toContain('<script>')
    expect(forAdmin.match(/action="[^"]*"/g)).toEqual(['action="/ui/sources/bus/delete"'])
    expect(forAdmin).toContain('name="_csrf" value="tok"')
    expect(sourcesPage({sources, session: viewer}).text).not.toContain('<form')
  })

  it('cookies: HttpOnly, SameSite=Strict, Secure under TLS; read back by name; tokens compared in constant time', () => {
    expect(sessionCookie('abc', false)).toBe('cms_session=abc; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=43200')
    expect(sessionCookie('abc', true)).toMatch(/; Secure$/)
    expect(sessionCookie('', true)).toContain('Max-Age=0')
    expect(cookieValue('a=1; cms_session=x=y; b=2', 'cms_session')).toBe('x=y')
    expect(cookieValue(undefined, 'cms_session')).toBeUndefined()
    expect(sameToken('abc', 'abc')).toBe(true)
    expect(sameToken('abd', 'abc')).toBe(false)
    expect(sameToken(undefined, 'abc')).toBe(false)
  })
})

describe('submit form', () => {
  const uploads = {files: [] as string[]}
  it('makes a spec task from the fields and the uploads', () => {
    expect(
      taskFromForm(
        {cluster: 'etl', mode: 'spec', args: '10\n\n 20 ', conf: 'spark.ui.enabled=false\nspark.a = b=c', env: 'A=1', executorInstances: '2', executorMemory: '1g', priority: '5', retries: ''},
        {app: 'pi.py', files: ['data.csv']},
      ),
    ).toEqual({cluster: 'etl', priority: 5, spec: {app: 'pi.py', args: ['10', '20'], conf: {'spark.ui.enabled': 'false', 'spark.a': 'b=c'}, env: {A: '1'}, files: ['data.csv'], executor: {instances: 2, memory: '1g'}}})
    expect(taskFromForm({cluster: 'etl', appUrl: 'https://e.org/a.py', driverCores: 'x'}, uploads)).toEqual({cluster: 'etl', spec: {app: 'https://e.org/a.py', driver: {cores: 'x'}}})
  })

  it('makes a jobfile task from pasted text or an upload', () => {
    expect(taskFromForm({cluster: 'n', mode: 'jobfile', jobfileText: 'job "a" {}', jobfileName: 'a.hcl'}, uploads)).toEqual({cluster: 'n', jobfile: {name: 'a.hcl', content: 'job "a" {}'}})
    expect(taskFromForm({cluster: 'n', mode: 'jobfile'}, {files: [], jobfile: {name: 'b.yaml', content: 'kind: Job'}})).toEqual({cluster: 'n', jobfile: {name: 'b.yaml', content: 'kind: Job'}})
  })

  it.each([
    [{}, uploads, 'cluster: choose a cluster'],
    [{cluster: 'etl'}, uploads, 'appUrl: upload the app'],
    [{cluster: 'etl', appUrl: 'https://e.org/a.py'}, {app: 'a.py', files: []}, 'appUrl: give an app URL or upload the app, not both'],
    [{cluster: 'etl', appUrl: 'x.py', conf: 'nonsense'}, uploads, 'conf: expected KEY=VALUE on each line, got "nonsense"'],
    [{cluster: 'n', mode: 'jobfile'}, uploads, 'jobfileText: paste a jobfile or upload one'],
  ])('refuses %j with the field named', (fields, up, message) => {
    expect(() => taskFromForm(fields, up)).toThrow(FormError)
    expect(() => taskFromForm(fields, up)).toThrow(message)
  })

  it('puts the API error lines beside their fields', () => {
    expect(errorsByField('spec: executor.memory: expected a size like 512m or 2g; args.0: bad; cluster: nope is not a cluster this service knows; body: something odd')).toEqual({
      executorMemory: ['spec: executor.memory: expected a size like 512m or 2g'],
      args: ['args.0: bad'],
      cluster: ['cluster: nope is not a cluster this service knows'],
      form: ['body: something odd'],
    })
    expect(errorsByField('spec.app: pi.py was not uploaded (send it as a file part)')).toEqual({appUrl: ['spec.app: pi.py was not uploaded (send it as a file part)']})
  })
})

describe('charts', () => {
  const hours = [0, 3_600_000, 7_200_000]
  it('draws stacked bars, lines with gaps and usage bars as SVG with titles', () => {
    const bars = stackedBars('ended', hours, [{name: 'ok', cls: 'c-ok', values: [1, 0, 3]}, {name: 'dead', cls: 'c-dead', values: [1, 0, 0]}]).text
    expect(bars.match(/<rect /g)).toHaveLength(3)
    expect(bars).toContain('<title>02:00 UTC ok: 3</title>')
    const line = lines('depth', hours, [{name: 'q', cls: 'c-depth', values: [2, null, 4]}]).text
    expect(line.match(/M/g)).toHaveLength(2)
    expect(usageBar('etl cores', 3, 4, 'cores').text).toContain('aria-label="etl cores: 3 of 4 cores used"')
    expect(stackedBars(EVIL, hours, []).text).not.toContain('<script>')
  })
})
