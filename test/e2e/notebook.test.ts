import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {chromium, type Browser, type Page} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {kubernetesLayout} from '../../src/engines/kubernetes/layout.js'
import {cms, docker, labelledContainers, makeCmsHome, removeClusterContainers, ROOT, startCms, waitUntil} from './helpers.js'

// `cms notebook` in a real browser (Debian's Chromium driven by playwright-core) on a 2-host Spark standalone
// cluster, a 2-host Hadoop cluster and a 2-node Kubernetes cluster, one after the other: JupyterLab through the
// tunnel runs a PySpark cell, the executors are read from the engine's own API (the driver's REST API on
// standalone, the ResourceManager on YARN, executor pods on Kubernetes), and a stop and start keeps the saved
// notebook. Screenshots go to .cache/notebook/.
const SHOTS = join(ROOT, '.cache', 'notebook')
const SUM = String((999_999 * 1_000_000) / 2)
const NOTEBOOK = 'spark-sum.ipynb'
const CELL = 'from pyspark.sql import SparkSession\nspark = SparkSession.builder.getOrCreate()\nprint("sum", spark.range(1000000).groupBy().sum("id").first()[0])'

interface Notebook {
  url: URL
  stop: () => Promise<void>
  stdout: string
}

/** `cms notebook -n NAME` held open until its login link is printed (Ctrl-C later closes the tunnel). */
async function openNotebook(name: string, env: Record<string, string>): Promise<Notebook> {
  const started = Date.now()
  const {child, done} = startCms(['notebook', '-n', name], env)
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
async function jupyter(nb: Notebook, path: string, init: RequestInit = {}): Promise<Response> {
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

interface Hosts {
  headIp: string
  /** The head's container. */
  head: string
  ips: string[]
}

interface EngineCase {
  title: string
  name: string
  createArgs: string[]
  /** What the cluster needs before a notebook starts (images on its nodes). */
  prepare?: (env: Record<string, string>) => Promise<void>
  /** The executors as the engine reports them, once the cell ran (at least one on a worker host). */
  executors: (hosts: Hosts) => Promise<void>
  /** After --stop: what the engine reports is gone with the server. */
  stopped?: (hosts: Hosts) => Promise<void>
}

function notebookCases(c: EngineCase) {
  describe(c.title, () => {
    const {home, cleanup} = makeCmsHome()
    const env = {CMS_HOME: home}
    let browser: Browser
    let hosts: Hosts = {headIp: '', head: '', ips: []}

    beforeAll(async () => {
      const executablePath = process.env.CMS_TEST_CHROMIUM
      if (!executablePath) throw new Error('CMS_TEST_CHROMIUM is not set: eval "$(bash scripts/browser.sh)" (scripts/test.sh does)')
      mkdirSync(SHOTS, {recursive: true})
      await removeClusterContainers(c.name)
      const r = await cms(['cluster', 'create', '-n', c.name, '--hosts', '2', ...c.createArgs], env, {timeoutMs: 1_800_000})
      if (r.code !== 0) throw new Error(`create failed: ${r.stderr}`)
      const containers = await labelledContainers(c.name)
      const head = containers.find((h) => h.role === 'head')!
      hosts = {headIp: head.ip, head: head.name, ips: containers.map((h) => h.ip)}
      await c.prepare?.(env)
      browser = await chromium.launch({executablePath})
    })

    afterAll(async () => {
      await browser?.close()
      await cms(['cluster', 'kill', '-n', c.name, '--yes'], env)
      await removeClusterContainers(c.name)
      cleanup()
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
      await editor.click()
      await page.keyboard.press('Shift+Enter')
      await page.locator('.jp-OutputArea-output', {hasText: `sum ${SUM}`}).first().waitFor({timeout: 300_000})
      await page.screenshot({path: join(SHOTS, `${c.name}.png`), fullPage: true})
      await c.executors(hosts)
      await page.keyboard.press('Control+s')
      await waitUntil('the saved output', async () => JSON.stringify(await (await jupyter(nb, `/api/contents/${NOTEBOOK}`)).json()).includes(`sum ${SUM}`), 60_000)
      await page.context().close()
      await nb.stop()

      const stopped = await cms(['notebook', '-n', c.name, '--stop', '--json'], env)
      expect(stopped.code, stopped.stderr).toBe(0)
      expect(JSON.parse(stopped.stdout)).toMatchObject({cluster: c.name, state: 'stopped'})
      // Stopping ended the kernel and with it the driver: the old link answers no more, nothing listens.
      expect(await fetch(new URL('/api/status', nb.url), {signal: AbortSignal.timeout(5000)}).then((r) => r.status, () => 'refused')).toBe('refused')
      await c.stopped?.(hosts)

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

interface SparkExecutor {
  id: string
  hostPort: string
  totalTasks: number
}

notebookCases({
  title: 'cms notebook on a Spark standalone cluster',
  name: 'notebook-e2e-spark',
  createArgs: [],
  // The driver's own REST API (port 4040 on the head: the kernel's driver): its executors run on the workers.
  executors: async ({headIp, ips: workerIps}) => {
    const apps = (await (await fetch(`http://${headIp}:4040/api/v1/applications`, {signal: AbortSignal.timeout(15_000)})).json()) as Array<{id: string}>
    expect(apps).toHaveLength(1)
    const executors = (await (await fetch(`http://${headIp}:4040/api/v1/applications/${apps[0]!.id}/executors`, {signal: AbortSignal.timeout(15_000)})).json()) as SparkExecutor[]
    const onWorkers = executors.filter((e) => e.id !== 'driver')
    expect(onWorkers.length).toBeGreaterThan(0)
    for (const e of onWorkers) expect(workerIps).toContain(e.hostPort.split(':')[0])
    expect(onWorkers.reduce((n, e) => n + e.totalTasks, 0)).toBeGreaterThan(0)
    // The master lists the notebook's application as running.
    const master = (await (await fetch(`http://${headIp}:8080/json/`, {signal: AbortSignal.timeout(15_000)})).json()) as {activeapps: Array<{id: string; cores: number}>}
    expect(master.activeapps.find((a) => a.id === apps[0]!.id)?.cores).toBeGreaterThan(0)
  },
})

interface YarnApp {
  id: string
  applicationType: string
  state: string
  runningContainers: number
  amHostHttpAddress: string
}

describe.skipIf(!process.env.CMS_HADOOP_DIST)('hadoop', () => {
  notebookCases({
    title: 'cms notebook on a Hadoop cluster (YARN client mode)',
    name: 'notebook-e2e-hadoop',
    createArgs: ['-e', 'hadoop'],
    // The ResourceManager runs the notebook's application: its ApplicationMaster and executors in containers.
    executors: async ({headIp}) => {
      const res = await fetch(`http://${headIp}:8088/ws/v1/cluster/apps?states=RUNNING`, {headers: {accept: 'application/json'}, signal: AbortSignal.timeout(15_000)})
      const apps = ((await res.json()) as {apps: {app?: YarnApp[]} | null}).apps?.app ?? []
      const spark = apps.filter((a) => a.applicationType === 'SPARK')
      expect(spark).toHaveLength(1)
      // The ExecutorLauncher (client mode's ApplicationMaster) and at least one executor.
      expect(spark[0]!.runningContainers).toBeGreaterThanOrEqual(2)
    },
  })
})

interface PodInfo {
  metadata: {name: string; labels: Record<string, string>}
  spec: {nodeName?: string}
  status: {phase: string}
}

const K8S_DIST = process.env.CMS_K8S_DIST
const SPARK_DIST = process.env.CMS_SPARK_DIST

describe.skipIf(!K8S_DIST || !SPARK_DIST)('kubernetes', () => {
  const name = 'notebook-e2e-k8s'
  const layout = kubernetesLayout('/root', name)
  /** kubectl on the head with the cluster's admin kubeconfig: the API's own answer. */
  const kubectl = async (head: string, ...args: string[]) => {
    const bin = (await docker('exec', head, 'sh', '-c', 'find / -xdev -type f -name kubectl -perm -u+x 2>/dev/null | head -n 1')).trim()
    return docker('exec', head, bin, '--kubeconfig', layout.files.adminKubeconfig, '--cache-dir', '/var/tmp/kubectl-cache', ...args)
  }
  const executorPods = async (head: string) =>
    (JSON.parse(await kubectl(head, 'get', 'pods', '-l', 'spark-role=executor,cms.notebook=cms-notebook', '-o', 'json')).items as PodInfo[])

  notebookCases({
    title: 'cms notebook on a Kubernetes cluster (a pod, executor pods, notebooks on a volume claim)',
    name,
    createArgs: ['-e', 'kubernetes', '--k8s-dist', K8S_DIST!],
    prepare: async (env) => {
      const built = await cms(['image', 'build', 'notebook', '--spark-dist', SPARK_DIST!, '--json'], env, {timeoutMs: 1_800_000})
      expect(built.code, built.stderr).toBe(0)
      const {tag, sparkVersion} = JSON.parse(built.stdout) as {tag: string; sparkVersion: string}
      for (const image of [`cms/spark:${sparkVersion}`, tag]) {
        const r = await cms(['image', 'load', '-n', name, image], env, {timeoutMs: 900_000})
        expect(r.code, r.stderr).toBe(0)
      }
    },
    // The kernel's driver (in the notebook's pod) asked the API for executor pods: they run on the cluster's nodes.
    executors: async ({head}) => {
      const pods = await executorPods(head)
      expect(pods.length).toBeGreaterThan(0)
      for (const p of pods) expect(p.status.phase).toBe('Running')
      const notebook = JSON.parse(await kubectl(head, 'get', 'pod', 'cms-notebook', '-o', 'json')) as {spec: {serviceAccountName: string; volumes: Array<{persistentVolumeClaim?: {claimName: string}}>}}
      expect(notebook.spec.serviceAccountName).toBe('cms-spark')
      const claim = JSON.parse(await kubectl(head, 'get', 'pvc', 'cms-notebook', '-o', 'json')) as {status: {phase: string}}
      expect(claim.status.phase).toBe('Bound')
    },
    // The executor pods were owned by the notebook's pod: they went with it; the claim stays.
    stopped: async ({head}) => {
      await waitUntil('the executor pods to go', async () => (await executorPods(head)).length === 0, 120_000)
      expect(await kubectl(head, 'get', 'pod', 'cms-notebook', '--ignore-not-found', '-o', 'name')).toBe('')
      expect(JSON.parse(await kubectl(head, 'get', 'pvc', 'cms-notebook', '-o', 'json')).status.phase).toBe('Bound')
    },
  })
})
