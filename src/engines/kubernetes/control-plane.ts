import type {KubernetesLayout} from './layout.js'
import {checkAddress, checkNodeName} from './names.js'
import {CLUSTER_DOMAIN, DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR, KUBERNETES_PORTS, cidrsOverlap, parseCidr} from './network.js'

/**
 * Command lines of the control plane cms runs on the head, as plain processes (no kubeadm, no static pods, so no
 * control-plane images): etcd on loopback with mutual TLS, the API server on the head's private address only,
 * the controller manager and the scheduler with their own identities and their own ports on loopback.
 * Each builder returns argv (the binary first): the caller quotes it for the shell.
 */

export interface ControlPlaneInput {
  layout: KubernetesLayout
  /** The head's private address: the API server binds and advertises it, nothing else. */
  headAddress: string
  headName: string
  /** Folder holding the Kubernetes binaries on the head. */
  binDir: string
  /** etcd's binary (Debian's etcd-server: /usr/bin/etcd). */
  etcdBinary?: string
  serviceCidr?: string
  podCidr?: string
  clusterDomain?: string
  apiServerPort?: number
  /** Lets pods ask for privileged containers (off: nothing cms runs needs it). */
  allowPrivileged?: boolean
}

interface Checked {
  serviceCidr: string
  podCidr: string
  clusterDomain: string
  apiServerPort: number
}

function check(input: ControlPlaneInput): Checked {
  checkAddress("the head's address", input.headAddress)
  checkNodeName(input.headName)
  for (const [what, p] of [
    ['the binary folder', input.binDir],
    ['the etcd binary', input.etcdBinary ?? '/usr/bin/etcd'],
  ] as const) {
    if (!p.startsWith('/')) throw new Error(`${what} must be an absolute path: ${JSON.stringify(p)}`)
  }
  const serviceCidr = input.serviceCidr ?? DEFAULT_SERVICE_CIDR
  const podCidr = input.podCidr ?? DEFAULT_POD_CIDR
  parseCidr(serviceCidr)
  parseCidr(podCidr)
  if (cidrsOverlap(serviceCidr, podCidr)) throw new Error(`the service range ${serviceCidr} overlaps the pod network ${podCidr}`)
  const apiServerPort = input.apiServerPort ?? KUBERNETES_PORTS.apiServer
  if (!Number.isInteger(apiServerPort) || apiServerPort < 1 || apiServerPort > 65535) throw new Error(`invalid API server port ${apiServerPort}`)
  return {serviceCidr, podCidr, clusterDomain: input.clusterDomain ?? CLUSTER_DOMAIN, apiServerPort}
}

/** The service-account issuer: the in-cluster URL of the API server (what kubeadm uses). */
export function serviceAccountIssuer(clusterDomain = CLUSTER_DOMAIN): string {
  return `https://kubernetes.default.svc.${clusterDomain}`
}

/** One etcd member on loopback: clients must show a certificate of the etcd CA (only the API server has one). */
export function etcdArgs(input: ControlPlaneInput): string[] {
  check(input)
  const l = input.layout
  const client = `https://127.0.0.1:${KUBERNETES_PORTS.etcdClient}`
  const peer = `http://127.0.0.1:${KUBERNETES_PORTS.etcdPeer}`
  return [
    input.etcdBinary ?? '/usr/bin/etcd',
    `--name=${input.headName}`,
    `--data-dir=${l.etcdDataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${input.headName}=${peer}`,
    '--initial-cluster-state=new',
    '--initial-cluster-token=cms',
    '--client-cert-auth=true',
    `--trusted-ca-file=${l.files.etcdCaCert}`,
    `--cert-file=${l.files.etcdServerCert}`,
    `--key-file=${l.files.etcdServerKey}`,
    // A test cluster's etcd: keep the database small and quiet.
    '--snapshot-count=10000',
    '--auto-compaction-retention=1',
    '--quota-backend-bytes=2147483648',
    '--logger=zap',
    '--log-outputs=stderr',
  ]
}

export function apiServerArgs(input: ControlPlaneInput): string[] {
  const c = check(input)
  const l = input.layout
  const f = l.files
  return [
    `${input.binDir}/kube-apiserver`,
    `--advertise-address=${input.headAddress}`,
    `--bind-address=${input.headAddress}`,
    `--secure-port=${c.apiServerPort}`,
    // Every request needs a client certificate (or a service-account token): no anonymous access, not even /readyz.
    '--anonymous-auth=false',
    `--client-ca-file=${f.caCert}`,
    `--tls-cert-file=${f.apiServerCert}`,
    `--tls-private-key-file=${f.apiServerKey}`,
    '--tls-min-version=VersionTLS12',
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    `--allow-privileged=${input.allowPrivileged ? 'true' : 'false'}`,
    `--etcd-servers=https://127.0.0.1:${KUBERNETES_PORTS.etcdClient}`,
    `--etcd-cafile=${f.etcdCaCert}`,
    `--etcd-certfile=${f.apiServerEtcdClientCert}`,
    `--etcd-keyfile=${f.apiServerEtcdClientKey}`,
    // Kubelets are dialed by address and verified against the cluster CA (cms issues their serving certificates).
    `--kubelet-client-certificate=${f.apiServerKubeletClientCert}`,
    `--kubelet-client-key=${f.apiServerKubeletClientKey}`,
    `--kubelet-certificate-authority=${f.caCert}`,
    '--kubelet-preferred-address-types=InternalIP,Hostname',
    `--service-cluster-ip-range=${c.serviceCidr}`,
    `--service-account-issuer=${serviceAccountIssuer(c.clusterDomain)}`,
    `--service-account-key-file=${f.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${f.serviceAccountKey}`,
    '--enable-bootstrap-token-auth=false',
    '--profiling=false',
    '--event-ttl=1h',
    // WatchList (beta, on by default in 1.34) turns every watch with allowWatchBookmarks=true and no resourceVersion
    // (or "0") into a watch-list request (sendInitialEvents=true). Serving one takes etcd's RequestWatchProgress, which
    // Debian's etcd 3.4.23 lacks: the API then answers each such watch with a 500 ERROR event ("RequestWatchProgress
    // is disabled"). fabric8's watches (spark-submit following its driver pod, Spark's executor watcher) are exactly
    // such watches and retry forever, seeing no event. Off, they are plain watches; kubectl's are unaffected either way.
    '--feature-gates=WatchList=false',
  ]
}

export function controllerManagerArgs(input: ControlPlaneInput): string[] {
  const c = check(input)
  const f = input.layout.files
  const kubeconfig = f.controllerManagerKubeconfig
  return [
    `${input.binDir}/kube-controller-manager`,
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    ...ownPortAuthentication(f.caCert),
    // Its own HTTPS port (health, metrics) on loopback only.
    '--bind-address=127.0.0.1',
    `--secure-port=${KUBERNETES_PORTS.controllerManager}`,
    '--leader-elect=false',
    // Each controller acts as its own service account (least privilege), not as the controller manager.
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${f.serviceAccountKey}`,
    `--root-ca-file=${f.caCert}`,
    `--service-cluster-ip-range=${c.serviceCidr}`,
    `--cluster-cidr=${c.podCidr}`,
    // Kubernetes gives each node its /24 of the pod network (Node.spec.podCIDR) and keeps the record: cms writes
    // the node's CNI config and the peers' routes from it, and keeps no assignment of its own.
    '--allocate-node-cidrs=true',
    '--node-cidr-mask-size=24',
    '--controllers=*,-cloud-node-lifecycle-controller,-service-lb-controller,-node-route-controller',
    '--profiling=false',
  ]
}

/**
 * Who may call the controller manager's and scheduler's own ports: client certificates of the cluster CA (and
 * tokens, through the API server). Without the lookup they would read the front-proxy CA from the cluster, which a
 * cms cluster does not have (no aggregation layer), and log an error every few seconds; /healthz stays open.
 */
function ownPortAuthentication(caCert: string): string[] {
  return ['--authentication-skip-lookup=true', `--client-ca-file=${caCert}`]
}

export function schedulerArgs(input: ControlPlaneInput): string[] {
  check(input)
  const kubeconfig = input.layout.files.schedulerKubeconfig
  return [
    `${input.binDir}/kube-scheduler`,
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    ...ownPortAuthentication(input.layout.files.caCert),
    '--bind-address=127.0.0.1',
    `--secure-port=${KUBERNETES_PORTS.scheduler}`,
    '--leader-elect=false',
    '--profiling=false',
  ]
}
