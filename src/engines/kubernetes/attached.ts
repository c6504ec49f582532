import {existsSync, statSync} from 'node:fs'
import {resolve} from 'node:path'
import type {KubeConfig} from '@kubernetes/client-node'
import type {AttachedEntry} from '../../config/attached.js'
import type {ClusterInfo} from '../../output/results.js'
import type {Host} from '../../providers/provider.js'
import {UsageError} from '../../remote/errors.js'
import type {AttachedEngine} from '../engine.js'
import {ClusterApi} from './cluster-api.js'
import {kubernetesClusterInfo} from './describe.js'
import {KubernetesJobService, type KubernetesJobsOptions} from './jobs.js'
import {imagesOnNodes, newestSparkImageOnNodes} from './job-service-factory.js'

/**
 * A Kubernetes cluster cms did not make: the user's kubeconfig (and context) as client-node reads it, any
 * authentication it supports, its server reached directly. Its hosts are its nodes, as the API lists them.
 */
async function kubeConfigOf(entry: AttachedEntry): Promise<KubeConfig> {
  const k = entry.kubernetes
  if (!k) throw new Error(`the access file of ${entry.name} names no kubeconfig: attach it again`)
  const {KubeConfig} = await import('@kubernetes/client-node')
  const kc = new KubeConfig()
  try {
    kc.loadFromFile(k.kubeconfig)
  } catch (error) {
    throw new UsageError(`cannot read the kubeconfig ${k.kubeconfig}: ${(error as Error).message}`)
  }
  if (k.context !== undefined) {
    if (!kc.contexts.some((c) => c.name === k.context)) {
      throw new UsageError(`the kubeconfig ${k.kubeconfig} has no context ${JSON.stringify(k.context)} (it has ${kc.contexts.map((c) => c.name).join(', ') || 'none'})`)
    }
    kc.setCurrentContext(k.context)
  }
  if (!kc.getCurrentCluster()) throw new UsageError(`the kubeconfig ${k.kubeconfig} has no current cluster: pass --context`)
  return kc
}

/** Nodes as hosts: the control plane's nodes are heads, the others workers. */
export function nodesAsHosts(nodes: Array<{metadata?: {name?: string; labels?: Record<string, string>}; status?: {addresses?: Array<{type: string; address: string}>}}>): Host[] {
  return nodes.map((n) => {
    const labels = n.metadata?.labels ?? {}
    const address = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? ''
    const controlPlane = 'node-role.kubernetes.io/control-plane' in labels || labels['cms.role'] === 'head'
    return {id: n.metadata?.name ?? '', role: controlPlane ? 'head' : 'worker', target: {host: address, port: 22, user: '', identityFiles: []}, privateAddress: address, state: 'running'}
  })
}

async function withApi<T>(entry: AttachedEntry, fn: (api: ClusterApi, server: string) => Promise<T>): Promise<T> {
  const kc = await kubeConfigOf(entry)
  const api = new ClusterApi(kc)
  try {
    return await fn(api, kc.getCurrentCluster()!.server)
  } finally {
    api.close()
  }
}

export const kubernetesAttached: AttachedEngine = {
  access(options) {
    if (!options.kubeconfig) throw new UsageError('pass --kubeconfig FILE (a Kubernetes cluster) or --nomad-addr URL (a Nomad cluster)')
    const file = resolve(options.kubeconfig)
    if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`kubeconfig not found: ${file}`)
    return {kubeconfig: file, ...(options.context === undefined ? {} : {context: options.context})}
  },

  async check(entry) {
    return withApi(entry, async (api, server) => {
      if (!(await api.readyz())) throw new Error(`the Kubernetes API at ${server} is not ready (/readyz)`)
      const nodes = await api.nodes()
      return `Kubernetes API at ${server}, ${nodes.length} node${nodes.length === 1 ? '' : 's'}`
    })
  },

  async describe(entry): Promise<ClusterInfo> {
    try {
      return await withApi(entry, async (api, server) => {
        const [ready, nodes] = await Promise.all([api.readyz(), api.nodes()])
        return kubernetesClusterInfo(entry.name, entry.provider, nodesAsHosts(nodes), {ready, nodes, apiUrl: server})
      })
    } catch (error) {
      return kubernetesClusterInfo(entry.name, entry.provider, [], undefined, (error as Error).message)
    }
  },

  async openJobs(entry, input) {
    const kc = await kubeConfigOf(entry)
    let sparkImage: Promise<string> | undefined
    const translateSpec: NonNullable<KubernetesJobsOptions['translateSpec']> = async (job) => {
      const {kubernetesSpecTranslator} = await import('../../jobs/kubernetes-translate.js')
      const named = job.spec.conf?.['spark.kubernetes.container.image']
      const image = named === undefined ? await (sparkImage ??= newestSparkImageOnNodes(kc, entry.name)) : String(named)
      return kubernetesSpecTranslator({image})(job)
    }
    return new KubernetesJobService(kc, {cluster: entry.name, log: input.log}, {translateSpec})
  },

  /** The notebook pod as on clusters cms made, its images from the nodes' own lists; reached by API port-forward. */
  async notebook(entry, log) {
    const kc = await kubeConfigOf(entry)
    const [{PodNotebookServer}, {forwardToPod}] = await Promise.all([import('./notebook.js'), import('./pod-forward.js')])
    const server = new PodNotebookServer({
      cluster: entry.name,
      log,
      openApi: async () => {
        const api = new ClusterApi(kc)
        return {api, close: async () => api.close()}
      },
      images: () => imagesOnNodes(kc),
    })
    return {server, forward: (running) => forwardToPod(kc, server.namespace, server.pod, running.info.port)}
  },
}
