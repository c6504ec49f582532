import {X509Certificate, createPrivateKey} from 'node:crypto'
import {isMap, isSeq, parse, parseDocument, stringify, YAMLSeq} from 'yaml'
import type {KeyPairPem} from '../pki.js'

/**
 * kubeconfig files: one cluster (its CA and server URL), one user (a client certificate and key, embedded), one
 * context joining them, current. Every control-plane component, kubelet and kube-proxy of a cms cluster gets one,
 * and so does the user (`cms cluster kubeconfig`). They hold private keys: cms writes them 0600.
 */

export interface KubeconfigInput {
  /** The cluster entry's name (the cms cluster name). */
  clusterName: string
  /** https://ADDRESS:PORT of the API server, as the reader of this file reaches it. */
  server: string
  caPem: string
  userName: string
  clientCertificatePem: string
  clientKeyPem: string
  /** Defaults to USER@CLUSTER. */
  contextName?: string
  namespace?: string
  /**
   * The name the server's certificate is checked against when `server` is not one of its names (a tunnel's
   * 127.0.0.1:PORT is one, but a forwarded hostname would not be).
   */
  tlsServerName?: string
}

const ENTRY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,252}$/

export function renderKubeconfig(input: KubeconfigInput): string {
  for (const [what, v] of [
    ['cluster name', input.clusterName],
    ['user name', input.userName],
    ['context name', input.contextName ?? `${input.userName}@${input.clusterName}`],
  ] as const) {
    if (!ENTRY_NAME.test(v)) throw new Error(`invalid kubeconfig ${what}: ${JSON.stringify(v)}`)
  }
  checkServer(input.server)
  checkPem('the CA certificate', input.caPem, 'cert')
  checkPem('the client certificate', input.clientCertificatePem, 'cert')
  checkPem('the client key', input.clientKeyPem, 'key')
  if (input.namespace !== undefined && !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(input.namespace)) {
    throw new Error(`not a namespace: ${JSON.stringify(input.namespace)}`)
  }
  const contextName = input.contextName ?? `${input.userName}@${input.clusterName}`
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: input.clusterName,
        cluster: {
          'certificate-authority-data': b64(input.caPem),
          server: input.server,
          ...(input.tlsServerName ? {'tls-server-name': input.tlsServerName} : {}),
        },
      },
    ],
    users: [
      {
        name: input.userName,
        user: {'client-certificate-data': b64(input.clientCertificatePem), 'client-key-data': b64(input.clientKeyPem)},
      },
    ],
    contexts: [
      {
        name: contextName,
        context: {cluster: input.clusterName, user: input.userName, ...(input.namespace ? {namespace: input.namespace} : {})},
      },
    ],
    'current-context': contextName,
    preferences: {},
  }
  return stringify(doc, {lineWidth: 0})
}

/** The API server's URL for an address and port (IPv6 in brackets). */
export function apiServerUrl(address: string, port: number): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid port ${port}`)
  return address.includes(':') ? `https://[${address}]:${port}` : `https://${address}:${port}`
}

function checkServer(server: string): void {
  let url: URL
  try {
    url = new URL(server)
  } catch {
    throw new Error(`not a URL: ${JSON.stringify(server)}`)
  }
  if (url.protocol !== 'https:' || url.pathname !== '/' || url.search || url.hash || url.username) {
    throw new Error(`the API server URL must be https://HOST:PORT: ${JSON.stringify(server)}`)
  }
}

function checkPem(what: string, pem: string, kind: 'cert' | 'key'): void {
  try {
    if (kind === 'cert') new X509Certificate(pem)
    else createPrivateKey(pem)
  } catch {
    throw new Error(`${what} is not a PEM ${kind === 'cert' ? 'certificate' : 'private key'}`)
  }
}

/**
 * Merges a kubeconfig cms rendered (one cluster, user and context) into an existing one (the user's $KUBECONFIG):
 * entries of other names stay as they are, comments and order included; entries of the same names (cms's own, from
 * an earlier run) are replaced; the new context becomes the current one. Refuses a file that is not a kubeconfig.
 */
export function mergeKubeconfig(existing: string | undefined, addition: string): string {
  const add = parse(addition) as {clusters: Array<{name: string}>; users: Array<{name: string}>; contexts: Array<{name: string}>; 'current-context': string}
  for (const key of ['clusters', 'users', 'contexts'] as const) {
    if (!Array.isArray(add?.[key]) || add[key].length !== 1) throw new Error(`the kubeconfig to merge must have exactly one entry in ${key}`)
  }
  if (existing === undefined || existing.trim() === '') return addition
  const doc = parseDocument(existing)
  if (doc.errors.length > 0) throw new Error(`the existing kubeconfig is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`)
  if (!isMap(doc.contents)) throw new Error('the existing kubeconfig is not a YAML mapping')
  const kind = doc.get('kind')
  if (kind !== undefined && kind !== 'Config') throw new Error(`the existing file is a ${String(kind)}, not a kubeconfig`)
  for (const key of ['clusters', 'users', 'contexts'] as const) {
    let list = doc.get(key)
    if (list === undefined || list === null) {
      doc.set(key, new YAMLSeq())
      list = doc.get(key)
    }
    if (!isSeq(list)) throw new Error(`the existing kubeconfig's ${key} is not a list`)
    const entry = add[key][0]!
    list.items = list.items.filter((item) => !(isMap(item) && item.get('name') === entry.name))
    list.items.push(doc.createNode(entry))
  }
  doc.set('current-context', add['current-context'])
  return doc.toString({lineWidth: 0})
}

/**
 * A kubeconfig cms rendered, with a second user (a bearer token) and a context that pairs it with the same cluster;
 * the current context stays as it was. The token is a secret: the caller writes the result 0600.
 */
export function addTokenContext(text: string, entry: {contextName: string; userName: string; token: string; namespace: string}): string {
  const doc = parse(text) as {clusters: Array<{name: string}>; users: Array<{name: string}>; contexts: Array<{name: string}>}
  if (doc.clusters?.length !== 1) throw new Error('the kubeconfig must have exactly one cluster')
  for (const name of [entry.contextName, entry.userName]) if (!ENTRY_NAME.test(name)) throw new Error(`invalid kubeconfig entry name: ${JSON.stringify(name)}`)
  if (!/^[A-Za-z0-9._-]+$/.test(entry.token)) throw new Error('the token is not a bearer token')
  doc.users = [...doc.users.filter((u) => u.name !== entry.userName), {name: entry.userName, user: {token: entry.token}} as {name: string}]
  const context = {cluster: doc.clusters[0]!.name, user: entry.userName, namespace: entry.namespace}
  doc.contexts = [...doc.contexts.filter((c) => c.name !== entry.contextName), {name: entry.contextName, context} as {name: string}]
  return stringify(doc, {lineWidth: 0})
}

/** The CA certificate embedded in a kubeconfig cms rendered (its one cluster). */
export function kubeconfigCa(text: string): string {
  const ca = (parse(text) as {clusters?: Array<{cluster?: Record<string, string>}>} | undefined)?.clusters?.[0]?.cluster?.['certificate-authority-data']
  if (!ca) throw new Error('the kubeconfig has no embedded CA certificate')
  return Buffer.from(ca, 'base64').toString('utf8')
}

/** The client certificate and key embedded in a kubeconfig cms rendered (its one user). */
export function kubeconfigCredentials(text: string): KeyPairPem {
  const user = (parse(text) as {users?: Array<{user?: Record<string, string>}>} | undefined)?.users?.[0]?.user
  const cert = user?.['client-certificate-data']
  const key = user?.['client-key-data']
  if (!cert || !key) throw new Error('the kubeconfig has no embedded client certificate and key')
  return {certificatePem: Buffer.from(cert, 'base64').toString('utf8'), privateKeyPem: Buffer.from(key, 'base64').toString('utf8')}
}
