import {AppsV1Api, CoreV1Api, Health, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesObject, type V1Node, type V1Pod} from '@kubernetes/client-node'
import {waitFor} from '../coordination.js'

/**
 * What the engine asks the Kubernetes API while it creates, grows, shrinks and inspects a cluster: nodes, their pod
 * ranges and readiness, cordon and eviction, the control plane's /readyz, server-side apply of cms's own objects.
 * (Jobs are jobs.ts's.) Loaded only by the Kubernetes engine: the client library is heavy.
 */
export class ClusterApi {
  readonly core: CoreV1Api
  readonly apps: AppsV1Api
  private readonly objects: KubernetesObjectApi
  private readonly health: Health

  constructor(readonly kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api)
    this.apps = kc.makeApiClient(AppsV1Api)
    this.objects = KubernetesObjectApi.makeApiClient(kc)
    this.health = new Health(kc)
  }

  async readyz(): Promise<boolean> {
    return this.health.readyz({timeout: 10_000}).catch(() => false)
  }

  async nodes(): Promise<V1Node[]> {
    return (await this.core.listNode()).items
  }

  async node(name: string): Promise<V1Node | undefined> {
    return this.core.readNode({name}).catch((error: unknown) => {
      if (statusOf(error) === 404) return undefined
      throw error
    })
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

  /** Server-side apply with cms as the field manager (idempotent). */
  async apply(objects: KubernetesObject[]): Promise<void> {
    for (const o of objects) await this.objects.patch(o, undefined, undefined, 'cms', true, PatchStrategy.ServerSideApply)
  }

  async waitDeploymentAvailable(namespace: string, name: string, timeoutMs: number): Promise<void> {
    await waitFor(
      timeoutMs,
      async () => {
        const d = await this.apps.readNamespacedDeployment({namespace, name})
        return (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 1)
      },
      `deployment ${namespace}/${name} did not become available`,
    )
  }

  /** Pods are refused until the service-account controller made the namespace's `default` account. */
  async waitDefaultServiceAccount(timeoutMs: number): Promise<void> {
    await waitFor(timeoutMs, async () => Boolean(await this.core.readNamespacedServiceAccount({namespace: 'default', name: 'default'}).catch(() => undefined)), 'the default service account was not made')
  }

  async cordon(name: string): Promise<void> {
    await this.core.patchNode({name, body: {spec: {unschedulable: true}}}, mergePatch())
  }

  async podsOn(nodeName: string): Promise<V1Pod[]> {
    return (await this.core.listPodForAllNamespaces({fieldSelector: `spec.nodeName=${nodeName}`})).items
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
            await this.core.createNamespacedPodEviction({namespace, name, body: {apiVersion: 'policy/v1', kind: 'Eviction', metadata: {name, namespace}}})
            pending.delete(key)
          } catch (error) {
            if (statusOf(error) === 404) pending.delete(key)
            else if (statusOf(error) !== 429) throw error
          }
        }
        if (pending.size > 0) return false
        const left = (await this.podsOn(nodeName)).filter((p) => movable.some((m) => m.metadata?.uid === p.metadata?.uid))
        return left.length === 0
      },
      `the pods of ${nodeName} were not evicted in time`,
    )
    return movable.length
  }

  async deleteNode(name: string): Promise<void> {
    await this.core.deleteNode({name}).catch((error: unknown) => {
      if (statusOf(error) !== 404) throw error
    })
  }
}

export function isReady(node: V1Node | undefined): boolean {
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false
}

function isDaemonSetPod(p: V1Pod): boolean {
  return p.metadata?.ownerReferences?.some((o) => o.kind === 'DaemonSet') ?? false
}

/** The HTTP status of an ApiException of the client (`code`), if any. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as {code?: unknown} | undefined)?.code
  return typeof code === 'number' ? code : undefined
}

/** The generated client sends JSON Patch unless told otherwise. */
function mergePatch() {
  return setHeaderOptions('Content-Type', PatchStrategy.MergePatch)
}
