import {createHash, createHmac, randomBytes} from 'node:crypto'
import {createServer, type IncomingMessage, type Server} from 'node:http'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {chromium, type Browser, type Page} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cms, makeCmsHome, removeClusterContainers, ROOT} from './helpers.js'
import {makeKey, piPyPath, startServer, taskForm, waitForTasks, type TestServer} from './serve-harness.js'

// The dashboard in a real browser (Debian's Chromium driven by playwright-core) in front of a real 1-host Spark
// cluster. What a click did is read from the service's API and from the cluster's own job records, not from the
// page. Screenshots of every page go to .cache/dashboard/.
const NAME = 'e2e-dash'
const WORK = join(ROOT, '.cache', 'e2e-dashboard')
const SHOTS = join(ROOT, '.cache', 'dashboard')
const SLEEP_PY = 'import time\nprint("sleeping")\ntime.sleep(900)\n'
const EVIL = '<img src=x onerror="document.title=1">'

const piPy = () => piPyPath(WORK)

describe('the dashboard in a browser', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}
  let server: TestServer
  let browser: Browser
  let admin = ''
  let viewer = ''
  // A webhook receiver on loopback: it refuses the first call (500), then takes them.
  const secret = randomBytes(32).toString('hex')
  const hooks: Array<{headers: IncomingMessage['headers']; body: string; status: number}> = []
  let receiver: Server
  let hookUrl = ''

  const api = async (path: string) => (await server.call('GET', path, {key: admin})).body
  /** The cluster's own job records, by the task whose attempt they are. */
  const engineStates = async (specName: string, taskId: string): Promise<string[]> => {
    const r = await cms(['job', 'list', '-n', NAME, '--json'], env)
    if (r.code !== 0) throw new Error(r.stderr)
    const tag = createHash('sha256').update(taskId).digest('hex').slice(0, 10)
    return (JSON.parse(r.stdout).jobs as Array<{name: string; state: string}>).filter((j) => j.name.startsWith(`${specName}-q${tag}-`)).map((j) => j.state)
  }
  const shot = (page: Page, name: string) => page.screenshot({path: join(SHOTS, `${name}.png`), fullPage: true})
  const login = async (key: string): Promise<Page> => {
    const context = await browser.newContext({viewport: {width: 1280, height: 900}})
    const page = await context.newPage()
    await page.goto(`${server.url}/ui/tasks`)
    expect(new URL(page.url()).pathname).toBe('/ui/login')
    await shot(page, 'login')
    await page.getByLabel('API key').fill(key)
    await page.getByRole('button', {name: 'Log in'}).click()
    await page.waitForURL(/\/ui\/tasks$/)
    return page
  }

  beforeAll(async () => {
    const executablePath = process.env.CMS_TEST_CHROMIUM
    if (!executablePath) throw new Error('CMS_TEST_CHROMIUM is not set: eval "$(bash scripts/browser.sh)" (scripts/test.sh does)')
    mkdirSync(SHOTS, {recursive: true})
    await removeClusterContainers(NAME)
    const r = await cms(['cluster', 'create', '-n', NAME, '--hosts', '1', '--worker-cores', '2', '--worker-memory', '3g'], env)
    if (r.code !== 0) throw new Error(`create failed: ${r.stderr}`)
    admin = await makeKey(env, 'boss', 'admin')
    viewer = await makeKey(env, 'viewer', 'read')
    receiver = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        const status = hooks.length === 0 ? 500 : 200
        hooks.push({headers: req.headers, body, status})
        res.writeHead(status).end()
      })
    })
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
    hookUrl = `http://127.0.0.1:${(receiver.address() as {port: number}).port}/cms?token=abc`
    mkdirSync(WORK, {recursive: true})
    writeFileSync(join(WORK, 'webhook.secret'), `${secret}\n`, {mode: 0o600})
    server = await startServer(env, ['--webhook-secret-file', join(WORK, 'webhook.secret')])
    browser = await chromium.launch({executablePath})
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    receiver?.close()
    await removeClusterContainers(NAME)
    cleanup()
  })

  it('logs in, submits pi.py through the form with an upload, sees it succeed with its log line, reruns it; bad fields are shown beside them', async () => {
    const page = await login(admin)
    await shot(page, 'login-tasks')
    expect(await page.getByRole('navigation', {name: 'Main'}).getByRole('link').allTextContents()).toEqual(['Tasks', 'Submit', 'Schedules', 'Sources', 'Clusters', 'Keys'])

    // A bad field: the form comes back with the error beside it, and nothing is queued.
    await page.getByRole('link', {name: 'Submit'}).click()
    await page.getByLabel('Cluster').selectOption(NAME)
    await page.locator('#f-app').setInputFiles(piPy())
    await page.getByLabel('Executor memory').fill('lots')
    await page.getByRole('button', {name: 'Submit'}).click()
    await expect.poll(() => page.locator('#err-executorMemory').textContent()).toContain('executor.memory: expected a size like 512m or 2g')
    expect(await page.getByLabel('Executor memory').getAttribute('aria-invalid')).toBe('true')
    await shot(page, 'submit-error')
    expect((await api('/tasks')).tasks).toEqual([])

    // The real thing.
    await page.locator('#f-app').setInputFiles(piPy())
    await page.getByLabel('Executor memory').fill('512m')
    await page.getByLabel('Arguments').fill('2')
    await page.getByLabel('Spark conf').fill(`spark.ui.enabled=false\nspark.cms.note=${EVIL}`)
    await page.getByRole('button', {name: 'Submit'}).click()
    await page.waitForURL(/\/ui\/task\//)
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!)
    const queued = await api(`/task/${encodeURIComponent(id)}`)
    expect(queued).toMatchObject({name: 'pi', cluster: NAME, createdBy: 'boss', files: [{name: 'pi.py'}]})
    expect(queued.spec.conf['spark.cms.note']).toBe(EVIL)
    const [done] = await waitForTasks(server, admin, [id], ['SUCCEEDED', 'DEAD', 'KILLED'], 420_000)
    expect(done.state).toBe('SUCCEEDED')
    expect(await engineStates('pi', id)).toEqual(['SUCCEEDED'])
    await page.reload()
    await expect.poll(() => page.locator('pre[data-follow]').textContent(), {timeout: 60_000}).toContain('Pi is roughly')
    // What the user wrote is shown as text: the <img> in the conf is not an element of the page.
    expect(await page.locator('main pre img').count()).toBe(0)
    expect(await page.title()).not.toBe('1')
    await shot(page, 'task-succeeded')

    // Rerun: the same task runs again on the engine, and the audit trail names the key.
    await page.getByRole('button', {name: 'Rerun'}).click()
    await page.waitForURL(/notice=/)
    const [again] = await waitForTasks(server, admin, [id], ['SUCCEEDED', 'DEAD', 'KILLED'], 420_000)
    expect(again.state).toBe('SUCCEEDED')
    expect(await engineStates('pi', id)).toEqual(['SUCCEEDED', 'SUCCEEDED'])
    const events = (await api(`/task/${encodeURIComponent(id)}/events`)).events as Array<{to: string; actor: string; detail?: string}>
    expect(events.some((e) => e.to === 'QUEUED' && e.actor === 'boss' && e.detail === 'rerun')).toBe(true)

    // A schedule from its form, with its app uploaded there; Run now queues a run that uses the kept upload.
    await page.goto(`${server.url}/ui/schedules`)
    await page.getByLabel('Name', {exact: true}).fill('yearly-pi')
    await page.locator('#s-cron').fill('0 0 1 1 *')
    await page.locator('#s-task').fill(JSON.stringify({cluster: NAME, spec: {name: 'sched-pi', app: 'pi.py', args: ['2'], conf: {'spark.ui.enabled': 'false'}, executor: {memory: '512m'}}}))
    await page.locator('#s-files').setInputFiles(piPy())
    await page.getByRole('button', {name: 'Add schedule'}).click()
    await page.waitForURL(/notice=/)
    expect(await api('/schedules/yearly-pi')).toMatchObject({name: 'yearly-pi', cron: '0 0 1 1 *', createdBy: 'boss'})
    await page.getByRole('row', {name: /yearly-pi/}).getByRole('button', {name: 'Run now'}).click()
    await page.waitForURL(/\/ui\/task\//)
    const runId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!)
    const [run] = await waitForTasks(server, admin, [runId], ['SUCCEEDED', 'DEAD', 'KILLED'], 420_000)
    expect(run).toMatchObject({state: 'SUCCEEDED', schedule: 'yearly-pi', files: [{name: 'pi.py'}]})
    expect(await engineStates('sched-pi', runId)).toEqual(['SUCCEEDED'])

    for (const p of ['tasks', 'schedules', 'sources', 'clusters', 'keys']) {
      await page.goto(`${server.url}/ui/${p}`)
      await shot(page, p)
    }
    await page.goto(`${server.url}/ui/submit`)
    await shot(page, 'submit')
    await page.context().close()
  })

  it('kills a long task from its page (its webhook is called, signed, retried); a read-only key sees no buttons; a form post without the CSRF token is refused', async () => {
    const r = await server.call('POST', '/task', {key: admin, form: taskForm({id: 'long', cluster: NAME, spec: {name: 'long', app: 'sleep.py'}, notify: {url: hookUrl, on: ['killed']}}, {'sleep.py': SLEEP_PY})})
    expect(r.status, r.text).toBe(201)
    await waitForTasks(server, admin, ['long'], ['RUNNING'], 300_000)

    // Read-only: the pages it may see, no buttons, no Submit or Keys, and 403 if it goes there anyway.
    const ro = await login(viewer)
    expect(await ro.getByRole('navigation', {name: 'Main'}).getByRole('link').allTextContents()).toEqual(['Tasks', 'Schedules', 'Sources', 'Clusters'])
    await ro.goto(`${server.url}/ui/task/long`)
    expect(await ro.locator('main button').count()).toBe(0)
    await shot(ro, 'task-read-only')
    expect((await ro.goto(`${server.url}/ui/submit`))!.status()).toBe(403)
    // A post with the session but without the token: refused, and the task still runs.
    const forged = await ro.context().request.post(`${server.url}/ui/task/long/kill`, {form: {}, maxRedirects: 0})
    expect(forged.status()).toBe(403)
    await ro.context().close()
    const page = await login(admin)
    const noToken = await page.context().request.post(`${server.url}/ui/task/long/kill`, {form: {_csrf: 'wrong'}, maxRedirects: 0})
    expect(noToken.status()).toBe(403)
    expect((await api('/task/long')).state).toBe('RUNNING')

    // Kill from the page: the engine reports the job killed.
    // The button is held down across a live refresh of the page (every 3 s): the refresh must not swap it out from
    // under the pointer, or the click is lost.
    await page.goto(`${server.url}/ui/task/long`)
    const kill = page.getByRole('button', {name: 'Kill'})
    const button = await kill.elementHandle()
    const box = (await kill.boundingBox())!
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
    await page.mouse.down()
    const refresh = await page.waitForResponse((r) => new URL(r.url()).pathname === '/ui/task/long' && r.request().headers()['x-cms-fragment'] === '1', {timeout: 15_000})
    await refresh.finished()
    await page.waitForTimeout(500)
    expect(await button!.evaluate((b) => b.isConnected)).toBe(true)
    await page.mouse.up()
    // The kill returns once the engine reports the job ended (up to ~30 s on a loaded machine); an error stays on
    // the kill's own page, which is shown if it comes.
    await page.waitForURL((u) => u.searchParams.has('notice') || u.pathname.endsWith('/kill'), {timeout: 120_000})
    if (!page.url().includes('notice=')) expect.fail(`the kill was refused: ${await page.locator('main').innerText()}`)
    expect((await api('/task/long')).state).toBe('KILLED')
    expect(await engineStates('long', 'long')).toEqual(['KILLED'])
    await shot(page, 'task-killed')
    // The webhook: refused once, sent again after its backoff, signed with the server's secret.
    const deadline = Date.now() + 60_000
    while (!hooks.some((h) => h.status === 200) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 500))
    expect(hooks.map((h) => h.status)).toEqual([500, 200])
    const {headers, body} = hooks[1]!
    const [, t, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(headers['x-cms-signature']))!
    expect(mac).toBe(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'))
    expect(Math.abs(Date.now() / 1000 - Number(t))).toBeLessThan(120)
    const call = JSON.parse(body)
    expect({event: call.event, state: call.state, id: call.task.id, taskState: call.task.state, by: call.task.attempts.length}).toEqual({event: 'killed', state: 'KILLED', id: 'long', taskState: 'KILLED', by: 1})
    expect(hooks[0]!.headers['x-cms-delivery']).toBe(headers['x-cms-delivery'])
    expect((await api('/task/long')).notify).toEqual({on: ['killed'], origin: new URL(hookUrl).origin})
    await page.context().close()
  })
})
