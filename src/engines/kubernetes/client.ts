import type {KubeConfig} from '@kubernetes/client-node'
import type {KubeAccess} from './api.js'

/**
 * API access from the PEM files cms keeps for a cluster (its CA, the admin client certificate and key), without
 * loading @kubernetes/client-node. `server` is where this process reaches the API (an SSH forward's
 * https://127.0.0.1:PORT: the API server's certificate names 127.0.0.1); `tlsServerName` when it names none of them.
 */
export function certificateAccess(input: {server: string; caPem: string; certPem: string; keyPem: string; tlsServerName?: string}): KubeAccess {
  const url = new URL(input.server)
  if (url.protocol !== 'https:') throw new Error(`the Kubernetes API is reached over https, not ${JSON.stringify(input.server)}`)
  return {
    getCurrentCluster: () => ({server: input.server}),
    applyToHTTPSOptions: async (opts) => {
      opts.ca = input.caPem
      opts.cert = input.certPem
      opts.key = input.keyPem
      if (input.tlsServerName) opts.servername = input.tlsServerName
    },
  }
}

/**
 * A client-node KubeConfig from a kubeconfig's text (any authentication it supports), its current cluster's server
 * replaced by `server` when given (the local end of an SSH forward). Loads client-node (~0.6 s) on first use.
 */
export async function kubeConfigFromText(text: string, server?: string): Promise<KubeConfig> {
  const {KubeConfig} = await import('@kubernetes/client-node')
  const kc = new KubeConfig()
  kc.loadFromString(text)
  const current = kc.getCurrentCluster()
  if (!current) throw new Error('the kubeconfig has no current cluster')
  if (server) {
    kc.loadFromOptions({
      clusters: kc.clusters.map((c) => (c.name === current.name ? {...c, server} : c)),
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    })
  }
  return kc
}
