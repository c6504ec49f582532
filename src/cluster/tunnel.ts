import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {hostContext} from '../engines/host-context.js'
import type {TunnelReport} from '../output/results.js'
import {forwardLocal, type LocalForward} from '../remote/local-forward.js'
import {shq} from '../remote/shell.js'
import {socksProxy} from '../remote/socks-proxy.js'
import {openCluster, type RunOptions} from './context.js'
import {validateClusterName} from './names.js'
import {NotFoundError} from './not-found.js'

export interface OpenTunnel {
  report: TunnelReport
  /** The environment with secrets, for a command cms runs itself; never printed. */
  secretEnvironment: Record<string, string>
  close(): Promise<void>
}

/**
 * Local forwards on 127.0.0.1 to the engine's API and web UI, through the head's SSH connection, plus the
 * environment a native client (nomad, kubectl) needs. Files it writes (CA certificate, --write-env) are 0600 in a
 * private directory removed by close().
 */
export async function openTunnel(req: {name: string; envFile?: string; withSecrets: boolean}, run: RunOptions): Promise<OpenTunnel> {
  validateClusterName(req.name)
  const handle = await openCluster(req.name, run)
  const forwards: LocalForward[] = []
  const dir = mkdtempSync(join(tmpdir(), `cms-tunnel-${req.name}-`))
  const close = async () => {
    await Promise.all(forwards.map((f) => f.close()))
    handle.pool.closeAll()
    rmSync(dir, {recursive: true, force: true})
    if (req.envFile) rmSync(req.envFile, {force: true})
  }
  try {
    const hosts = await handle.provider.observe(req.name)
    const head = hosts.find((h) => h.role === 'head')
    if (!head) throw new NotFoundError(`cluster ${JSON.stringify(req.name)} not found`)
    const ctx = await hostContext(await handle.pool.get(head.target), head)
    const endpoints = await handle.engine.endpoints({cluster: req.name, head: ctx})
    const local: Record<string, string> = {}
    const views = []
    for (const e of endpoints) {
      let forward: LocalForward | undefined
      if (e.socks) forward = await socksProxy(ctx.session, e.socks.allowed)
      else if (e.localPort) {
        forward = await forwardLocal(ctx.session, e.address, e.port, e.localPort).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EADDRINUSE') throw error
          run.log(`127.0.0.1:${e.localPort} is in use (another tunnel to ${req.name}?): ${e.name} gets another port, which kubeconfigs written by cms do not name`)
          return undefined
        })
      }
      forward ??= await forwardLocal(ctx.session, e.address, e.port)
      forwards.push(forward)
      local[e.name] = `${e.scheme}://127.0.0.1:${forward.port}${e.path ?? ''}`
      views.push({name: e.name, description: e.description, url: local[e.name], remote: e.socks ? `${e.socks.allowed.join(', ')} via ${head.id}` : `${e.address}:${e.port} via ${head.id}`})
    }
    const env = (withSecrets: boolean): Promise<Record<string, string>> =>
      handle.engine.clientEnvironment?.({cluster: req.name, head: ctx, local, secretsDir: dir, withSecrets}) ?? Promise.resolve({})
    const environment = await env(false)
    const secretEnvironment = req.withSecrets || req.envFile ? await env(true) : environment
    if (req.envFile) {
      const text = Object.entries(secretEnvironment).map(([k, v]) => `export ${k}=${shq(v)}\n`).join('')
      writeFileSync(req.envFile, '', {mode: 0o600})
      chmodSync(req.envFile, 0o600)
      writeFileSync(req.envFile, text)
    }
    return {report: {cluster: req.name, engine: handle.engine.name, endpoints: views, environment, envFile: req.envFile}, secretEnvironment, close}
  } catch (error) {
    await close()
    throw error
  }
}
