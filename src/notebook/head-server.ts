import type {HostContext} from '../engines/host-context.js'
import {resolveArtifact} from '../engines/artifact.js'
import {Shipment} from '../engines/shipping.js'
import {HEAD_PYTHON_SCRIPT, jupyterArchive, JUPYTERLAB_VERSION, parseHeadPython} from './jupyter-dist.js'
import type {NotebookServer, RunningServer} from './notebook-server.js'
import {parseServerInfo} from './server-info.js'
import * as s from './server-scripts.js'

/** How long JupyterLab may take to write its runtime record after it was started. */
const SERVER_READY_MS = 120_000

/**
 * JupyterLab as a process on the head (spark, hadoop): the archive shipped once like every artifact, the kernels'
 * PySpark wired to the cluster by the engine (`spark`, asked only when a server starts).
 */
export class HeadNotebookServer implements NotebookServer {
  private readonly layout: s.NotebookLayout

  constructor(
    cluster: string,
    private readonly head: HostContext,
    private readonly spark: () => Promise<s.NotebookSpark>,
    private readonly log: (line: string) => void,
  ) {
    this.layout = s.notebookLayout(head.facts.home, cluster)
  }

  get notebooks(): string {
    return this.layout.notebooksDir
  }

  async find(): Promise<RunningServer | undefined> {
    const info = parseServerInfo(await this.head.session.run(s.serverInfoScript(this.layout), {label: 'find JupyterLab'}))
    return info && {address: this.head.address, info}
  }

  async start(): Promise<RunningServer> {
    const spark = await this.spark()
    const jupyterRoot = await this.shipJupyter()
    this.log(`Starting JupyterLab on ${this.head.host.id} (${this.head.address})`)
    await this.head.session.run(s.startServerScript(this.layout, jupyterRoot, this.head.address, spark), {label: 'start JupyterLab'})
    return {address: this.head.address, info: await this.ready()}
  }

  async stop(): Promise<'stopped' | 'not running'> {
    const state = (await this.head.session.run(s.stopServerScript(this.layout), {label: 'stop JupyterLab', timeoutMs: 60_000})).trim()
    return state === 'stopped' ? 'stopped' : 'not running'
  }

  /** The JupyterLab archive for the head's Python, shipped once to the head and unpacked there; returns its root. */
  private async shipJupyter(): Promise<string> {
    const ctx = this.head
    if (!ctx.facts.python3) throw new Error(`python3 not found on the head ${ctx.host.id}: JupyterLab and PySpark need it`)
    const python = parseHeadPython(await ctx.session.run(HEAD_PYTHON_SCRIPT, {label: 'python3 version'}))
    const archive = await jupyterArchive(python, this.log)
    const kind = {what: 'JupyterLab', flag: 'cms notebook', envVar: 'CMS_DIST_CACHE', extensions: ['.tgz' as const]}
    const artifact = await resolveArtifact(archive, kind, {log: this.log, probe: 'jupyterlab/__init__.py', version: () => JUPYTERLAB_VERSION})
    const shipment = new Shipment([artifact], false)
    let last = ''
    await shipment.deliver(ctx, true, {
      update: (text) => {
        // One line per step, not per percent.
        const step = text.replace(/\s*\d+%$/, '')
        if (step !== last) this.log(`${ctx.host.id}: ${text}`)
        last = step
      },
    })
    return shipment.root(ctx, artifact)
  }

  /** Waits (bounded) for JupyterLab's runtime record; a server that exits fails at once, with its log. */
  private async ready(): Promise<RunningServer['info']> {
    const deadline = Date.now() + SERVER_READY_MS
    let problem = `JupyterLab did not start within ${SERVER_READY_MS / 1000} s`
    for (let attempt = 0; attempt < 600 && Date.now() < deadline; attempt++) {
      const out = await this.head.session.run(s.serverInfoScript(this.layout), {label: 'find JupyterLab'})
      const info = parseServerInfo(out)
      if (info) return info
      if (out.trim() === s.NOT_RUNNING) {
        problem = 'JupyterLab exited'
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const log = (await this.head.session.run(s.serverLogScript(this.layout), {label: 'read the JupyterLab log'}).catch(() => '')).trim()
    // One line: failures print their first line only.
    throw new Error(`${problem}${log ? `; the end of ${this.layout.logFile}: ${log.split('\n').slice(-8).join(' | ')}` : ''}`)
  }
}
