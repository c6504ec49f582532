import type {ChildProcess} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {chromium, type Browser, type Locator, type Page} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cms, ROOT, startCms, waitUntil} from './helpers.js'

// `cms notebook` in a real browser (Debian's Chromium driven by playwright-core), on the clusters of
// notebook.test.ts (Spark standalone), hadoop.test.ts (YARN) and kubernetes-spark.test.ts: JupyterLab through the
// tunnel runs a PySpark cell, the executors are read from the engine's own API, and a stop and start keeps the saved
// notebook. Screenshots go to .cache/notebook/.
const SHOTS = join(ROOT, '.cache', 'notebook')
export const SUM = String((999_999 * 1_000_000) / 2)
export const NOTEBOOK = 'spark-sum.ipynb'
const CELL = 'from pyspark.sql import SparkSession\nspark = SparkSession.builder.getOrCreate()\nprint("sum", spark.range(1000000).groupBy().sum("id").first()[0])'

interface Notebook {
  url: URL
  stop: () => Promise<void>
  stdout: string
}

/** `cms notebook` processes still holding a tunnel: a failed case leaves none behind (afterAll ends them). */
const holding = new Set<ChildProcess>()

/** `cms notebook -n NAME` held open until its login link is printed (Ctrl-C later closes the tunnel). */
export async function openNotebook(name: string, env: Record<string, string>): Promise<Notebook> {
  const started = Date.now()
  const {child, done} = startCms(['notebook', '-n', name], env)
  holding.add(child)
  void done.then(() => holding.delete(child))
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const link = () => /http:\/\/127\.0\.0\.1:\d+\/lab\?token=[0-9a-f]+/.exec(stdout)?.[0]
  await waitUntil('the login link', async () => link() !== undefined || child.exitCode !== null, 300_000).catch(() => undefined)
  const found = link()
  if (!found) {
    child.kill('SIGKILL')
    throw new Error(`cms notebook printed no link (exit ${child.exitCode}): ${stdout}\n${stderr}`)
  }
  console.log(`cms notebook -n ${name}: link after ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return {
    url: new URL(found),
    stdout,
    stop: async () => {
      child.kill('SIGINT')
      const r = await done
      expect(r.code, r.stderr).toBe(0)
    },
  }
}

/** Jupyter's REST API through the tunnel, with the token. */
export async function jupyter(nb: Notebook, path: string, init: RequestInit = {}): Promise<Response> {
  const token = nb.url.searchParams.get('token')!
  return fetch(new URL(path, nb.url), {...init, headers: {authorization: `token ${token}`, 'content-type': 'application/json'}, signal: AbortSignal.timeout(30_000)})
}

function notebookJson(): object {
  return {
    type: 'notebook',
    content: {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {kernelspec: {name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python'}},
      cells: [{cell_type: 'code', id: 'sum', metadata: {}, execution_count: null, outputs: [], source: CELL}],
    },
  }
}

export interface Hosts {
  headIp: string
  /** The head's container. */
  head: string
  ips: string[]
}

export interface NotebookCase {
  title: string
  /** The cluster (made by the file that calls notebookCases), its CMS_HOME, and its hosts once made. */
  name: string
  env: Record<string, string>
  hosts: () => Hosts
  /** What the cluster needs before a notebook starts (images on its nodes). */
  prepare?: () => Promise<void>
  /** The executors as the engine reports them, once the cell ran (at least one on a worker host). */
  executors: (hosts: Hosts) => Promise<void>
  /** After --stop: what the engine reports is gone with the server. */
  stopped?: (hosts: Hosts) => Promise<void>
  /** What the engine says when the cell gives no result (its applications, pods), for the failure's message. */
  diagnose?: (hosts: Hosts) => Promise<string>
}

/**
 * Presses KEY in the notebook (focused first) until `done`, up to 3 times, `timeoutMs` each: a shortcut pressed
 * while the page's focus is elsewhere does nothing. `failure` says what did not happen.
 */
async function pressUntil(page: Page, editor: Locator, key: string, done: () => Promise<boolean>, timeoutMs: number, failure: () => Promise<string>): Promise<void> {
  for (let press = 1; ; press++) {
    await editor.click()
    await page.keyboard.press(key)
    if (await waitUntil(`${key} to take effect`, done, timeoutMs).then(() => true, () => false)) return
    if (press === 3) throw new Error(`${await failure()} after ${press} presses of ${key}`)
  }
}

/**
 * Runs the first cell with Shift+Enter, and presses again (at most twice more) when its prompt shows that the key
 * did not start it ([*] while it runs, [1] once done): a press can be lost to a page still settling.
 */
async function runCell(page: Page, editor: Locator): Promise<void> {
  const prompt = page.locator('.jp-Notebook .jp-Cell .jp-InputArea-prompt').first()
  await pressUntil(page, editor, 'Shift+Enter', async () => /\[(\*|\d+)\]/.test(await prompt.innerText()), 30_000, async () => `the cell did not start (its prompt: ${JSON.stringify(await prompt.innerText())})`)
}

const RESULT = new RegExp(`sum ${SUM}|Traceback|\\w+(Error|Exception)\\b`)

/**
 * Waits for the cell's result, and fails at once with the traceback when the cell raised (not after the whole wait),
 * or with the page's outputs, the kernel's state and the engine's own account when nothing came.
 */
async function cellResult(page: Page, c: NotebookCase): Promise<void> {
  const output = page.locator('.jp-OutputArea-output', {hasText: RESULT}).first()
  try {
    await output.waitFor({timeout: 300_000})
  } catch (e) {
    await page.screenshot({path: join(SHOTS, `${c.name}-no-result.png`), fullPage: true}).catch(() => undefined)
    const outputs = await page.locator('.jp-OutputArea-output').allInnerTexts().catch(() => [])
    const status = await page.locator('.jp-StatusBar-Widget').allInnerTexts().catch(() => [])
    const engine = await c.diagnose?.(c.hosts()).catch((err: Error) => `(could not ask: ${err.message})`)
    throw new Error(`the cell gave no result in 300 s (${(e as Error).message.split('\n')[0]})\noutputs: ${JSON.stringify(outputs).slice(0, 3000)}\nstatus bar: ${status.join(' | ')}\nengine: ${engine ?? '-'}`)
  }
  expect(await output.innerText(), 'the cell raised').toContain(`sum ${SUM}`)
}

/**
 * `cms notebook` on a cluster another e2e file made and shares: JupyterLab through the tunnel in Chromium runs a PySpark
 * cell, the engine reports its executors, a stop and start keeps the saved notebook; the server is stopped at the end.
 */
export function notebookCases(c: NotebookCase) {
  describe(c.title, () => {
    let browser: Browser
    const env = c.env

    beforeAll(async () => {
      const executablePath = process.env.CMS_TEST_CHROMIUM
      if (!executablePath) throw new Error('CMS_TEST_CHROMIUM is not set: eval "$(bash scripts/browser.sh)" (scripts/test.sh does)')
      mkdirSync(SHOTS, {recursive: true})
      await c.prepare?.()
      browser = await chromium.launch({executablePath})
    })

    afterAll(async () => {
      for (const child of holding) child.kill('SIGKILL')
      await browser?.close()
      await cms(['notebook', '-n', c.name, '--stop'], env)
    })

    it('runs a PySpark cell on the cluster in JupyterLab through the tunnel, and keeps the notebook over a stop and start', async () => {
      let nb = await openNotebook(c.name, env)
      expect(nb.url.hostname).toBe('127.0.0.1')
      // The token is required.
      expect((await fetch(new URL('/api/contents', nb.url), {signal: AbortSignal.timeout(30_000)})).status).toBe(403)
      expect((await jupyter(nb, `/api/contents/${NOTEBOOK}`, {method: 'PUT', body: JSON.stringify(notebookJson())})).status).toBe(201)

      const page: Page = await (await browser.newContext({viewport: {width: 1280, height: 800}})).newPage()
      await page.goto(nb.url.href)
      await page.goto(new URL(`/lab/tree/${NOTEBOOK}`, nb.url).href)
      const editor = page.locator('.jp-Notebook .jp-Cell .cm-content').first()
      await editor.waitFor({timeout: 120_000})
      // The kernel is up (the status bar says so) before the cell runs.
      await page.getByText('Python 3 (ipykernel) | Idle').first().waitFor({timeout: 180_000})
      await runCell(page, editor)
      await cellResult(page, c)
      await page.screenshot({path: join(SHOTS, `${c.name}.png`), fullPage: true})
      await c.executors(c.hosts())
      // Saved with JupyterLab's Ctrl+S (a rehearsal under load once waited 60 s for a save that never happened).
      await pressUntil(page, editor, 'Control+s', async () => JSON.stringify(await (await jupyter(nb, `/api/contents/${NOTEBOOK}`)).json()).includes(`sum ${SUM}`), 20_000, async () => "the notebook's output was not saved")
      await page.context().close()
      await nb.stop()

      const stopped = await cms(['notebook', '-n', c.name, '--stop', '--json'], env)
      expect(stopped.code, stopped.stderr).toBe(0)
      expect(JSON.parse(stopped.stdout)).toMatchObject({cluster: c.name, state: 'stopped'})
      // Stopping ended the kernel and with it the driver: the old link answers no more, nothing listens.
      expect(await fetch(new URL('/api/status', nb.url), {signal: AbortSignal.timeout(5000)}).then((r) => r.status, () => 'refused')).toBe('refused')
      await c.stopped?.(c.hosts())

      nb = await openNotebook(c.name, env)
      expect(nb.stdout).toContain('(started;')
      const saved = await (await jupyter(nb, `/api/contents/${NOTEBOOK}`)).json() as {content: {cells: Array<{outputs: Array<{text?: string}>}>}}
      expect(saved.content.cells[0]!.outputs.map((o) => o.text ?? '').join('')).toContain(`sum ${SUM}`)
      const again = await (await browser.newContext()).newPage()
      await again.goto(nb.url.href)
      await again.goto(new URL(`/lab/tree/${NOTEBOOK}`, nb.url).href)
      await again.locator('.jp-OutputArea-output', {hasText: `sum ${SUM}`}).first().waitFor({timeout: 120_000})
      await again.context().close()
      await nb.stop()
      const last = await cms(['notebook', '-n', c.name, '--stop'], env)
      expect(last.code, last.stderr).toBe(0)
    })
  })
}

