import {resolveArtifact} from '../engines/artifact.js'
import {hostContext, type HostContext} from '../engines/host-context.js'
import {Shipment} from '../engines/shipping.js'
import {HEAD_PYTHON_SCRIPT, jupyterArchive, JUPYTERLAB_VERSION, parseHeadPython} from '../notebook/jupyter-dist.js'
import {loginLink, parseServerInfo, type JupyterServerInfo} from '../notebook/server-info.js'
import * as s from '../notebook/server-scripts.js'
import type {NotebookReport} from '../output/results.js'
import {UsageError} from '../remote/errors.js'
import {forwardLocal, type LocalForward} from '../remote/local-forward.js'
import {openCluster, type RunOptions} from './context.js'
import {readManifest} from './manifest.js'
import {validateClusterName} from './names.js'
import {NotFoundError} from './not-found.js'

export interface OpenNotebook {
  report: NotebookReport
  /** Closes the tunnel; the server keeps running on the head (--stop removes it). */
  close(): Promise<void>
}

/** How long JupyterLab may take to write its runtime record after it was started. */
const SERVER_READY_MS = 120_000

/**
 * `cms notebook`: JupyterLab on the cluster's head, its kernels' PySpark wired to the cluster by the engine, reached
 * through a local forward over the head's SSH connection. Starts the server when none runs (shipping the JupyterLab
 * archive once); otherwise reattaches to it. With `stop`, stops the server and keeps the notebooks.
 */
export async function openNotebook(req: {name: string; stop: boolean}, run: RunOptions): Promise<OpenNotebook> {
  validateClusterName(req.name)
  const handle = await openCluster(req.name, run)
  const forwards: LocalForward[] = []
  const close = async () => {
    await Promise.all(forwards.map((f) => f.close()))
    handle.pool.closeAll()
  }
  try {
    const {engine} = handle
    if (!engine.notebookSpark) throw new UsageError(`cms notebook does not support ${engine.name} clusters yet (spark and hadoop clusters have it)`)
    const hosts = await handle.provider.observe(req.name)
    const head = hosts.find((h) => h.role === 'head')
    if (!head) throw new NotFoundError(`cluster ${JSON.stringify(req.name)} not found`)
    if (head.state === 'stopped') throw new Error(`the head of cluster ${req.name} is not running: 'cms cluster create -n ${req.name}' brings it back`)
    const ctx = await hostContext(await handle.pool.get(head.target), head)
    const layout = s.notebookLayout(ctx.facts.home, req.name)
    const base = {cluster: req.name, engine: engine.name, notebooksDir: layout.notebooksDir}
    if (req.stop) {
      const state = (await ctx.session.run(s.stopServerScript(layout), {label: 'stop JupyterLab', timeoutMs: 60_000})).trim()
      return {report: {...base, state: state === 'stopped' ? 'stopped' : 'not running'}, close}
    }
    let info = parseServerInfo(await ctx.session.run(s.serverInfoScript(layout), {label: 'find JupyterLab'}))
    let state: NotebookReport['state'] = 'running'
    if (!info) {
      const manifest = await readManifest(ctx.session, ctx.facts.home, req.name)
      const spark = await engine.notebookSpark({cluster: req.name, head: ctx, settings: manifest?.engineSettings ?? {}})
      const jupyterRoot = await shipJupyter(ctx, run)
      run.log(`Starting JupyterLab on ${head.id} (${ctx.address})`)
      state = (await ctx.session.run(s.startServerScript(layout, jupyterRoot, ctx.address, spark), {label: 'start JupyterLab'})).trim() === 'running' ? 'running' : 'started'
      info = await serverReady(ctx, layout)
    }
    const forward = await forwardLocal(ctx.session, ctx.address, info.port)
    forwards.push(forward)
    return {report: {...base, state, url: loginLink(info, forward.port), remote: `${ctx.address}:${info.port}`}, close}
  } catch (error) {
    await close()
    throw error
  }
}

/** The JupyterLab archive for the head's Python, shipped once to the head and unpacked there; returns its root. */
async function shipJupyter(ctx: HostContext, run: RunOptions): Promise<string> {
  if (!ctx.facts.python3) throw new Error(`python3 not found on the head ${ctx.host.id}: JupyterLab and PySpark need it`)
  const python = parseHeadPython(await ctx.session.run(HEAD_PYTHON_SCRIPT, {label: 'python3 version'}))
  const archive = await jupyterArchive(python, run.log)
  const artifact = await resolveArtifact(archive, {what: 'JupyterLab', flag: 'cms notebook', envVar: 'CMS_DIST_CACHE', extensions: ['.tgz']}, {log: run.log, probe: 'jupyterlab/__init__.py', version: () => JUPYTERLAB_VERSION})
  const shipment = new Shipment([artifact], false)
  let last = ''
  await shipment.deliver(ctx, true, {
    update: (text) => {
      // One line per step, not per percent.
      const step = text.replace(/\s*\d+%$/, '')
      if (step !== last) run.log(`${ctx.host.id}: ${text}`)
      last = step
    },
  })
  return shipment.root(ctx, artifact)
}

/** Waits (bounded) for JupyterLab's runtime record; a server that exits fails at once, with its log. */
async function serverReady(ctx: HostContext, layout: s.NotebookLayout): Promise<JupyterServerInfo> {
  const deadline = Date.now() + SERVER_READY_MS
  let problem = `JupyterLab did not start within ${SERVER_READY_MS / 1000} s`
  for (let attempt = 0; attempt < 600 && Date.now() < deadline; attempt++) {
    const out = await ctx.session.run(s.serverInfoScript(layout), {label: 'find JupyterLab'})
    const info = parseServerInfo(out)
    if (info) return info
    if (out.trim() === s.NOT_RUNNING) {
      problem = 'JupyterLab exited'
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  const log = (await ctx.session.run(s.serverLogScript(layout), {label: 'read the JupyterLab log'}).catch(() => '')).trim()
  // One line: failures print their first line only.
  throw new Error(`${problem}${log ? `; the end of ${layout.logFile}: ${log.split('\n').slice(-8).join(' | ')}` : ''}`)
}
