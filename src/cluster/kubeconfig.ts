import {chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {delimiter, dirname, join, resolve} from 'node:path'
import {hostContext} from '../engines/host-context.js'
import type {KubeconfigReport} from '../output/results.js'
import {UsageError} from '../remote/errors.js'
import {openCluster, type RunOptions} from './context.js'
import {validateClusterName} from './names.js'
import {NotFoundError} from './not-found.js'

/** Where kubectl reads its configuration: the first file of $KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = (env.KUBECONFIG ?? '').split(delimiter).find((p) => p.trim() !== '')
  return first ? resolve(first) : join(homedir(), '.kube', 'config')
}

/**
 * Writes the cluster's kubeconfig into `file` (merged: other clusters, users and contexts stay; cms's own entries
 * of an earlier run are replaced; its context becomes current), 0600. The server is the loopback port
 * `cms cluster tunnel` takes for the cluster, so kubectl works while a tunnel is open.
 */
export async function writeKubeconfig(req: {name: string; file?: string}, run: RunOptions): Promise<KubeconfigReport> {
  validateClusterName(req.name)
  const file = req.file ? resolve(req.file) : defaultKubeconfigPath()
  const handle = await openCluster(req.name, run)
  try {
    if (!handle.engine.kubeconfig) throw new UsageError(`cluster ${req.name} runs ${handle.engine.name}: kubeconfig is for Kubernetes clusters ('cms cluster tunnel' reaches the others)`)
    const hosts = await handle.provider.observe(req.name)
    const head = hosts.find((h) => h.role === 'head')
    if (!head) throw new NotFoundError(`cluster ${JSON.stringify(req.name)} not found`)
    const ctx = await hostContext(await handle.pool.get(head.target), head)
    const api = (await handle.engine.endpoints({cluster: req.name, head: ctx})).find((e) => e.name === 'api')
    if (!api?.localPort) throw new Error(`the ${handle.engine.name} engine names no fixed tunnel port for its API`)
    const server = `https://127.0.0.1:${api.localPort}`
    const ours = await handle.engine.kubeconfig({cluster: req.name, head: ctx, server})
    const {mergeKubeconfig} = await import('../engines/kubernetes/kubeconfig.js')
    const existing = existsSync(file) ? readFileSync(file, 'utf8') : undefined
    let merged: string
    try {
      merged = mergeKubeconfig(existing, ours.text)
    } catch (error) {
      throw new UsageError(`cannot merge into ${file}: ${(error as Error).message}`)
    }
    mkdirSync(dirname(file), {recursive: true, mode: 0o700})
    const part = `${file}.cms-${process.pid}.part`
    writeFileSync(part, merged, {mode: 0o600})
    chmodSync(part, 0o600)
    renameSync(part, file)
    return {cluster: req.name, file, context: ours.context, server, merged: existing !== undefined}
  } finally {
    handle.pool.closeAll()
  }
}
