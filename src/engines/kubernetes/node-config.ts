import {stringify} from 'yaml'
import type {KubernetesLayout} from './layout.js'
import {checkAddress, checkNodeName} from './names.js'
import {CLUSTER_DOMAIN, DEFAULT_POD_CIDR, KUBERNETES_PORTS, parseCidr} from './network.js'

/**
 * What runs on every node: the kubelet (its KubeletConfiguration file and its few flags) and kube-proxy (its
 * KubeProxyConfiguration file). Both are rendered from typed input; YAML comes from the yaml package, so every value
 * is quoted as YAML needs.
 */

export type CgroupDriver = 'cgroupfs' | 'systemd'

export interface KubeletInput {
  layout: KubernetesLayout
  nodeName: string
  /** The node's private address: the kubelet listens there and reports it as the node's InternalIP. */
  nodeAddress: string
  binDir: string
  /** cgroupfs: containers with cgroup v1 and no systemd (Docker here); must match containerd's. */
  cgroupDriver?: CgroupDriver
  clusterDomain?: string
  /** The cluster DNS service address, once cms runs one (empty: pods get the node's resolv.conf). */
  clusterDns?: string[]
  /** Node labels the kubelet sets at registration (NodeRestriction refuses node-role.kubernetes.io/*). */
  labels?: Record<string, string>
  /** Pods per node (the kubelet's default 110). */
  maxPods?: number
  /** A resolv.conf for pods with dnsPolicy Default (and for ClusterFirst without cluster DNS). */
  resolvConf?: string
}

const LABEL_KEY = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/

function checkKubelet(input: KubeletInput): void {
  checkNodeName(input.nodeName)
  checkAddress(`node ${input.nodeName}'s address`, input.nodeAddress)
  if (!input.binDir.startsWith('/')) throw new Error(`the binary folder must be an absolute path: ${JSON.stringify(input.binDir)}`)
  for (const a of input.clusterDns ?? []) checkAddress('a cluster DNS address', a)
  for (const [k, v] of Object.entries(input.labels ?? {})) {
    if (!LABEL_KEY.test(k) || !LABEL_VALUE.test(v)) throw new Error(`invalid node label ${JSON.stringify(`${k}=${v}`)}`)
    if (/(^|\.)kubernetes\.io\/|(^|\.)k8s\.io\//.test(k)) throw new Error(`the kubelet may not set the label ${k} itself (NodeRestriction)`)
  }
  if (input.maxPods !== undefined && (!Number.isInteger(input.maxPods) || input.maxPods < 1 || input.maxPods > 250)) {
    throw new Error(`maxPods must be 1-250 (a node's /24 holds 253 pod addresses), not ${input.maxPods}`)
  }
  if (input.resolvConf !== undefined && !input.resolvConf.startsWith('/')) throw new Error(`resolvConf must be an absolute path: ${JSON.stringify(input.resolvConf)}`)
}

/** The kubelet's configuration file (kubelet.config.k8s.io/v1beta1). */
export function renderKubeletConfig(input: KubeletInput): string {
  checkKubelet(input)
  const l = input.layout
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: input.nodeAddress,
    port: KUBERNETES_PORTS.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: KUBERNETES_PORTS.kubeletHealthz,
    tlsCertFile: l.files.kubeletServingCert,
    tlsPrivateKeyFile: l.files.kubeletServingKey,
    tlsMinVersion: 'VersionTLS12',
    rotateCertificates: false,
    serverTLSBootstrap: false,
    // Only the API server (and admins) may use the kubelet's API: client certificates of the cluster CA, each
    // request authorized through the API server (SubjectAccessReview).
    authentication: {
      anonymous: {enabled: false},
      webhook: {enabled: true, cacheTTL: '2m0s'},
      x509: {clientCAFile: l.files.caCert},
    },
    authorization: {mode: 'Webhook', webhook: {cacheAuthorizedTTL: '5m0s', cacheUnauthorizedTTL: '30s'}},
    containerRuntimeEndpoint: `unix://${l.containerdSocket}`,
    cgroupDriver: input.cgroupDriver ?? 'cgroupfs',
    // cgroup v1 is what Docker gives containers here (1.35 refuses it by default; 1.34 only warns, unless this is true).
    failCgroupV1: false,
    // No static pods: the control plane runs as processes, not from manifests on disk.
    staticPodPath: '',
    clusterDomain: input.clusterDomain ?? CLUSTER_DOMAIN,
    ...(input.clusterDns?.length ? {clusterDNS: input.clusterDns} : {}),
    ...(input.resolvConf ? {resolvConf: input.resolvConf} : {}),
    // Hosts may have swap: pods never use it (NoSwap) and the kubelet still starts.
    failSwapOn: false,
    memorySwap: {swapBehavior: 'NoSwap'},
    // The kubelet leaves the kernel's settings alone (cms shadows the ones it would want in node containers).
    protectKernelDefaults: false,
    maxPods: input.maxPods ?? 110,
    serializeImagePulls: false,
    // Test clusters: images are loaded by cms, never pulled, so image garbage collection must not throw them away.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: {'memory.available': '100Mi', 'nodefs.available': '5%', 'imagefs.available': '5%', 'nodefs.inodesFree': '5%'},
    enableDebuggingHandlers: true,
    logging: {format: 'text'},
  }
  return stringify(config, {lineWidth: 0})
}

/** The kubelet's command line: everything else is in its configuration file. */
export function kubeletArgs(input: KubeletInput): string[] {
  checkKubelet(input)
  const l = input.layout
  const labels = Object.entries(input.labels ?? {}).map(([k, v]) => `${k}=${v}`)
  return [
    `${input.binDir}/kubelet`,
    `--config=${l.files.kubeletConfig}`,
    `--kubeconfig=${l.files.kubeletKubeconfig}`,
    `--root-dir=${l.kubeletRootDir}`,
    `--hostname-override=${input.nodeName}`,
    `--node-ip=${input.nodeAddress}`,
    ...(labels.length ? [`--node-labels=${labels.join(',')}`] : []),
  ]
}

export interface KubeProxyInput {
  layout: KubernetesLayout
  nodeName: string
  nodeAddress: string
  binDir: string
  podCidr?: string
}

/**
 * kube-proxy in iptables mode. It must touch no non-namespaced kernel setting: conntrack maxPerCore 0 and min 0 keep
 * nf_conntrack_max as it is, the TCP and UDP timeouts 0s keep the conntrack timeouts; NodePorts only on the node's
 * own address (not 127.0.0.1, which would need route_localnet).
 */
export function renderKubeProxyConfig(input: KubeProxyInput): string {
  checkNodeName(input.nodeName)
  checkAddress(`node ${input.nodeName}'s address`, input.nodeAddress)
  const podCidr = input.podCidr ?? DEFAULT_POD_CIDR
  parseCidr(podCidr)
  const config = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: {kubeconfig: input.layout.files.kubeProxyKubeconfig},
    hostnameOverride: input.nodeName,
    bindAddress: input.nodeAddress,
    healthzBindAddress: `127.0.0.1:${KUBERNETES_PORTS.kubeProxyHealthz}`,
    metricsBindAddress: `127.0.0.1:${KUBERNETES_PORTS.kubeProxyMetrics}`,
    mode: 'iptables',
    clusterCIDR: podCidr,
    nodePortAddresses: ['primary'],
    iptables: {masqueradeAll: false, syncPeriod: '30s', minSyncPeriod: '1s'},
    conntrack: {
      maxPerCore: 0,
      min: 0,
      tcpEstablishedTimeout: '0s',
      tcpCloseWaitTimeout: '0s',
      udpTimeout: '0s',
      udpStreamTimeout: '0s',
    },
    logging: {format: 'text'},
  }
  return stringify(config, {lineWidth: 0})
}

export function kubeProxyArgs(input: KubeProxyInput): string[] {
  checkNodeName(input.nodeName)
  if (!input.binDir.startsWith('/')) throw new Error(`the binary folder must be an absolute path: ${JSON.stringify(input.binDir)}`)
  return [`${input.binDir}/kube-proxy`, `--config=${input.layout.files.kubeProxyConfig}`]
}
