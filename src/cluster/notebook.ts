import {readAttached, type AttachedEntry} from '../config/attached.js'
import {hostContext} from '../engines/host-context.js'
import {loadEngine} from '../engines/registry.js'
import type {NotebookServer, RunningServer} from '../notebook/notebook-server.js'
import {loginLink} from '../notebook/server-info.js'
import type {NotebookReport} from '../output/results.js'
import {UsageError} from '../remote/errors.js'
import {forwardLocal, type LocalForward} from '../remote/local-forward.js'
import {openCluster, type RunOptions} from './context.js'
import {readManifest} from './manifest.js'
import {validateClusterName} from './names.js'
import {NotFoundError} from './not-found.js'

export interface OpenNotebook {
  report: NotebookReport
  /** Closes the tunnel; the server keeps running (--stop removes it). */
  close(): Promise<void>
}

/**
 * `cms notebook`: the cluster's JupyterLab server as its engine runs it (a process on the head, a pod), its
 * kernels' PySpark wired to the cluster, reached through a local forward over the head's SSH connection. Starts a
 * server when none runs; otherwise reattaches to it. With `stop`, stops the server and keeps the notebooks.
 */
export async function openNotebook(req: {name: string; stop: boolean}, run: RunOptions): Promise<OpenNotebook> {
  validateClusterName(req.name)
  const attached = readAttached(req.name)
  if (attached) return openAttachedNotebook(attached, req.stop, run)
  const handle = await openCluster(req.name, run)
  const forwards: LocalForward[] = []
  const close = async () => {
    await Promise.all(forwards.map((f) => f.close()))
    handle.pool.closeAll()
  }
  try {
    const {engine} = handle
    if (!engine.notebookServer) throw new UsageError(`cms notebook does not support ${engine.name} clusters yet (spark, hadoop and kubernetes clusters have it)`)
    const hosts = await handle.provider.observe(req.name)
    const head = hosts.find((h) => h.role === 'head')
    if (!head) throw new NotFoundError(`cluster ${JSON.stringify(req.name)} not found`)
    if (head.state === 'stopped') throw new Error(`the head of cluster ${req.name} is not running: 'cms cluster create -n ${req.name}' brings it back`)
    const ctx = await hostContext(await handle.pool.get(head.target), head)
    const manifest = await readManifest(ctx.session, ctx.facts.home, req.name)
    const server = await engine.notebookServer({cluster: req.name, head: ctx, settings: manifest?.engineSettings ?? {}, log: run.log})
    const report = await reachNotebook(server, req.stop, async (running) => {
      const forward = await forwardLocal(ctx.session, running.address, running.info.port)
      forwards.push(forward)
      return forward.port
    })
    return {report: {cluster: req.name, engine: engine.name, ...report}, close}
  } catch (error) {
    await close()
    throw error
  }
}

/** A cluster cms did not make: the engine reaches its notebook server through the cluster's API. */
async function openAttachedNotebook(entry: AttachedEntry, stop: boolean, run: RunOptions): Promise<OpenNotebook> {
  const attached = await (await loadEngine(entry.engine)).attached?.()
  if (!attached?.notebook) throw new UsageError(`cms notebook does not support attached ${entry.engine} clusters (attached kubernetes clusters have it)`)
  const {server, forward} = await attached.notebook(entry, run.log)
  const forwards: LocalForward[] = []
  const close = async () => void (await Promise.all(forwards.map((f) => f.close())))
  try {
    const report = await reachNotebook(server, stop, async (running) => {
      const f = await forward(running)
      forwards.push(f)
      return f.port
    })
    return {report: {cluster: entry.name, engine: entry.engine, ...report}, close}
  } catch (error) {
    await close()
    throw error
  }
}

/** Stops the server, or finds it (starting one when none runs) and opens a local port to it. */
async function reachNotebook(server: NotebookServer, stop: boolean, localPort: (running: RunningServer) => Promise<number>): Promise<Omit<NotebookReport, 'cluster' | 'engine'>> {
  if (stop) return {notebooks: server.notebooks, state: await server.stop()}
  let state: NotebookReport['state'] = 'running'
  let running = await server.find()
  if (!running) {
    running = await server.start()
    state = 'started'
  }
  const port = await localPort(running)
  return {notebooks: server.notebooks, state, url: loginLink(running.info, port), remote: `${running.address}:${running.info.port}`}
}
