import {forwardLocal} from '../../remote/local-forward.js'
import type {SshSession} from '../../remote/session.js'
import type {KubeAccess} from './api.js'
import {certificateAccess} from './client.js'
import {ClusterApi} from './cluster-api.js'
import {kubeconfigCa, kubeconfigCredentials} from './kubeconfig.js'
import {kubernetesLayout} from './layout.js'
import {KUBERNETES_PORTS} from './network.js'

export interface HeadAccess {
  session: SshSession
  address: string
  home: string
}

/**
 * The Kubernetes API as cms reaches it: the admin credentials read from the head (0600 there; they stay in memory here) and a loopback-only local forward
 * to the API server. `close` ends the forward, which otherwise keeps the process alive.
 */
async function openForward(head: HeadAccess, cluster: string): Promise<{admin: string; caPem: string; server: string; close: () => Promise<void>}> {
  const layout = kubernetesLayout(head.home, cluster)
  const admin = (await head.session.readFile(layout.files.adminKubeconfig))?.toString('utf8')
  if (!admin) throw new Error(`the head of ${cluster} has no Kubernetes admin credentials (${layout.files.adminKubeconfig}): rerun 'cms cluster create'`)
  // https://127.0.0.1:PORT: the API server's certificate names 127.0.0.1, so TLS is verified against the cluster CA.
  const forward = await forwardLocal(head.session, head.address, KUBERNETES_PORTS.apiServer)
  return {admin, caPem: kubeconfigCa(admin), server: `https://127.0.0.1:${forward.port}`, close: () => forward.close()}
}

/** The API as raw HTTPS with the admin certificate (jobs: no client-node, objects sent exactly as written). */
export async function openCertificateAccess(head: HeadAccess, cluster: string): Promise<{access: KubeAccess; caPem: string; close: () => Promise<void>}> {
  const forward = await openForward(head, cluster)
  const pair = kubeconfigCredentials(forward.admin)
  return {access: certificateAccess({server: forward.server, caPem: forward.caPem, certPem: pair.certificatePem, keyPem: pair.privateKeyPem}), caPem: forward.caPem, close: forward.close}
}

/** The engine's own view of the API (nodes, eviction, health, CoreDNS); `close` ends its connections and the forward. */
export async function openClusterApi(head: HeadAccess, cluster: string): Promise<{api: ClusterApi; caPem: string; close: () => Promise<void>}> {
  const {access, caPem, close} = await openCertificateAccess(head, cluster)
  const api = new ClusterApi(access)
  return {
    api,
    caPem,
    close: async () => {
      api.close()
      await close()
    },
  }
}
