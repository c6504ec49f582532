import type {V1Deployment, V1Node, V1Pod, V1PodList, V1NodeList} from '@kubernetes/client-node'
import {waitFor} from '../coordination.js'
import {KubeApi, KubeApiError, type KubeAccess} from './api.js'
import {applyObject, resolveObject} from './apply.js'
import {checkObject} from './manifests.js'

const NODES = '/api/v1/nodes'

/**
 * What the engine asks the Kubernetes API while it creates, grows, shrinks and inspects a cluster: nodes, their pod
 * ranges and readiness, cordon and eviction, the control plane's /readyz, server-side apply of cms's own objects
 * (CoreDNS). Raw JSON over HTTPS like the jobs (api.ts): no client library to load.
 */
export class ClusterApi {
  private readonly api: KubeApi

  constructor(access: KubeAccess) {
    this.api = new KubeApi(access)
  }

  close(): void {
    this.api.close()
  }

  async readyz(): Promise<boolean> {
    return this.api.request<string>('GET', '/readyz', {text: true, timeoutMs: 10_000}).then(
      (text) => text.trim() === 'ok',
      () => false,
    )
  }

  async nodes(): Promise<V1Node[]> {
    return (await this.api.request<V1NodeList>('GET', NODES)).items
  }

  async node(name: string): Promise<V1Node | undefined> {
    return orUndefined(this.api.request<V1Node>('GET', `${NODES}/${encodeURIComponent(name)}`))
  }

  /** Waits for the node to register and for Kubernetes to give it its pod range (Node.spec.podCIDR). */
  async waitPodCidr(name: string, timeoutMs: number): Promise<string> {
    let cidr = ''
    await waitFor(timeoutMs, async () => Boolean((cidr = (await this.node(name))?.spec?.podCIDR ?? '')), `node ${name} did not register with a pod range`)
    return cidr
  }

  async waitReady(name: string, timeoutMs: number, why: string): Promise<void> {
    await waitFor(timeoutMs, async () => isReady(await this.node(name)), why)
  }

  /** A token of a service account (TokenRequest API): bound to nothing, valid `seconds` (the API may shorten it). */
  async serviceAccountToken(namespace: string, name: string, seconds: number): Promise<string> {
    const body = {apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {expirationSeconds: seconds}}
    const out = await this.api.request<{status?: {token?: string}}>('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}/token`, {body})
    if (!out.status?.token) throw new Error(`the API server issued no token for service account ${namespace}/${name}`)
    return out.status.token
  }

  /** Server-side apply with cms as the field manager (idempotent), each object as written. */
  async apply(objects: unknown[]): Promise<void> {
    for (const [i, o] of objects.entries()) {
      const where = `object ${i + 1}`
      await applyObject(this.api, await resolveObject(this.api, 'cms', {where, object: checkObject(o, 'cms', where)}))
    }
  }

  async waitDeploymentAvailable(namespace: string, name: string, timeoutMs: number): Promise<void> {
    await waitFor(
      timeoutMs,
      async () => {
        const d = await this.api.request<V1Deployment>('GET', `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`)
        return (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 1)
      },
      `deployment ${namespace}/${name} did not become available`,
    )
  }

  /** Pods are refused until the service-account controller made the namespace's `default` account. */
  async waitDefaultServiceAccount(timeoutMs: number): Promise<void> {
    await waitFor(timeoutMs, async () => Boolean(await orUndefined(this.api.request('GET', '/api/v1/namespaces/default/serviceaccounts/default'))), 'the default service account was not made')
  }

  /** GET of one object by its API path; undefined when there is none. */
  async get<T>(path: string): Promise<T | undefined> {
    return orUndefined(this.api.request<T>('GET', path))
  }

  /** DELETE of one object by its API path; false when there was none. */
  async remove(path: string): Promise<boolean> {
    return (await orUndefined(this.api.request('DELETE', path))) !== undefined
  }

  async cordon(name: string): Promise<void> {
    await this.api.request('PATCH', `${NODES}/${encodeURIComponent(name)}`, {body: {spec: {unschedulable: true}}, contentType: 'application/merge-patch+json'})
  }

  /** The pods of a namespace that carry the label selector's labels. */
  async pods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    return (await this.api.request<V1PodList>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, {query: {labelSelector}})).items
  }

  async podsOn(nodeName: string): Promise<V1Pod[]> {
    return (await this.api.request<V1PodList>('GET', '/api/v1/pods', {query: {fieldSelector: `spec.nodeName=${nodeName}`}})).items
  }

  /**
   * Evicts every pod of the node that another node can take (not DaemonSet pods, not finished ones) through the
   * Eviction API, retrying those a disruption budget holds back, then waits until they are gone. Returns how many.
   */
  async drainNode(nodeName: string, timeoutMs: number): Promise<number> {
    const movable = (await this.podsOn(nodeName)).filter((p) => !isDaemonSetPod(p) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed')
    const pending = new Set(movable.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`))
    await waitFor(
      timeoutMs,
      async () => {
        for (const key of [...pending]) {
          const [namespace, name] = key.split('/') as [string, string]
          try {
            const body = {apiVersion: 'policy/v1', kind: 'Eviction', metadata: {name, namespace}}
            await this.api.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/eviction`, {body, contentType: 'application/json'})
            pending.delete(key)
          } catch (error) {
            // 404: gone already; 429: a disruption budget holds it back for now.
            if (error instanceof KubeApiError && error.status === 404) pending.delete(key)
            else if (!(error instanceof KubeApiError && error.status === 429)) throw error
          }
        }
        if (pending.size > 0) return false
        const uids = new Set(movable.map((m) => m.metadata?.uid))
        return (await this.podsOn(nodeName)).every((p) => !uids.has(p.metadata?.uid))
      },
      `the pods of ${nodeName} were not evicted in time`,
    )
    return movable.length
  }

  async deleteNode(name: string): Promise<void> {
    await orUndefined(this.api.request('DELETE', `${NODES}/${encodeURIComponent(name)}`))
  }
}

export function isReady(node: V1Node | undefined): boolean {
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false
}

function isDaemonSetPod(p: V1Pod): boolean {
  return p.metadata?.ownerReferences?.some((o) => o.kind === 'DaemonSet') ?? false
}

/** The answer, or undefined when the API has no such object (404). */
async function orUndefined<T>(answer: Promise<T>): Promise<T | undefined> {
  try {
    return await answer
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return undefined
    throw error
  }
}
