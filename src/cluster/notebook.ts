import {hostContext} from '../engines/host-context.js'
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
    const base = {cluster: req.name, engine: engine.name, notebooks: server.notebooks}
    if (req.stop) return {report: {...base, state: await server.stop()}, close}
    let state: NotebookReport['state'] = 'running'
    let running = await server.find()
    if (!running) {
      running = await server.start()
      state = 'started'
    }
    const forward = await forwardLocal(ctx.session, running.address, running.info.port)
    forwards.push(forward)
    return {report: {...base, state, url: loginLink(running.info, forward.port), remote: `${running.address}:${running.info.port}`}, close}
  } catch (error) {
    await close()
    throw error
  }
}
