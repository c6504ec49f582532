import type {KubeConfig} from '@kubernetes/client-node'
import {forwardLocal, type LocalForward} from '../../remote/local-forward.js'
import type {SshSession} from '../../remote/session.js'
import {kubernetesLayout} from './layout.js'
import {KUBERNETES_PORTS} from './network.js'

/** The Kubernetes API as cms reaches it: through an SSH forward to the head's private address, as the cluster admin. */
export interface KubeApiAccess {
  kc: KubeConfig
  /** https://127.0.0.1:PORT: the API server's certificate names 127.0.0.1, so TLS is verified against the cluster CA. */
  server: string
  close(): Promise<void>
}

export interface HeadAccess {
  session: SshSession
  address: string
  home: string
}

/**
 * Reads the admin kubeconfig from the head (0600 there; it stays in memory here) and opens a loopback-only local
 * forward to the API server. Close it when done: the forward keeps the process alive.
 */
export async function openKubeApi(head: HeadAccess, cluster: string): Promise<KubeApiAccess> {
  const layout = kubernetesLayout(head.home, cluster)
  const text = (await head.session.readFile(layout.files.adminKubeconfig))?.toString('utf8')
  if (!text) throw new Error(`the head of ${cluster} has no Kubernetes admin credentials (${layout.files.adminKubeconfig}): rerun 'cms cluster create'`)
  const {KubeConfig} = await import('@kubernetes/client-node')
  const stored = new KubeConfig()
  stored.loadFromString(text)
  const forward: LocalForward = await forwardLocal(head.session, head.address, KUBERNETES_PORTS.apiServer)
  const server = `https://127.0.0.1:${forward.port}`
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: stored.clusters.map((c) => ({...c, server})),
    users: stored.users,
    contexts: stored.contexts,
    currentContext: stored.currentContext,
  })
  return {kc, server, close: () => forward.close()}
}

/** Runs `fn` with the API, closing the forward afterwards. */
export async function withKubeApi<T>(head: HeadAccess, cluster: string, fn: (access: KubeApiAccess) => Promise<T>): Promise<T> {
  const access = await openKubeApi(head, cluster)
  try {
    return await fn(access)
  } finally {
    await access.close()
  }
}
