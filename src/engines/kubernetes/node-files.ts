import type {KeyPairPem} from '../pki.js'
import type {ClusterAuthorities, ControlPlaneCertificates, NodeCertificates} from './cluster-pki.js'
import {renderContainerdConfig} from './containerd-config.js'
import {apiServerUrl, renderKubeconfig} from './kubeconfig.js'
import type {KubernetesLayout} from './layout.js'
import {IDENTITIES} from './cluster-pki.js'
import {KUBERNETES_PORTS} from './network.js'
import {renderKubeletConfig, renderKubeProxyConfig, type KubeletInput} from './node-config.js'
import {PAUSE_IMAGE} from './pause-image.js'
import {renderCniConfig} from './pod-network.js'

/**
 * Every file a host of a cms Kubernetes cluster needs, as path -> content and mode: what the control plane reads on
 * the head (certificates, keys, kubeconfigs) and what every node reads (its kubelet's certificates and kubeconfig,
 * kube-proxy's kubeconfig, the kubelet, kube-proxy, CNI and containerd configurations). Keys and kubeconfigs are
 * 0600; certificates and configurations 0644. The folders come from prepareDirsScript (0700).
 */

export interface HostFile {
  path: string
  content: string
  mode: number
}

export interface ClusterIdentity {
  /** The cms cluster name: the kubeconfigs' cluster entry. */
  cluster: string
  /** The API server as every component reaches it: the head's private address. */
  headAddress: string
  apiServerPort?: number
  /** The cluster CA's certificate (and, for the head's files, the rest of the authorities). */
  caPem: string
}

export function controlPlaneFiles(l: KubernetesLayout, id: ClusterIdentity, auth: ClusterAuthorities, certs: ControlPlaneCertificates): HostFile[] {
  if (auth.ca.certificatePem !== id.caPem) throw new Error("the authorities are not this cluster's")
  const f = l.files
  const kubeconfig = (user: string, pair: KeyPairPem) => renderClientKubeconfig(id, user, pair)
  return [
    secret(f.caKey, auth.ca.privateKeyPem),
    cert(f.etcdCaCert, auth.etcdCa.certificatePem),
    secret(f.etcdCaKey, auth.etcdCa.privateKeyPem),
    secret(f.serviceAccountKey, auth.serviceAccount.privateKeyPem),
    cert(f.serviceAccountPublicKey, auth.serviceAccount.publicKeyPem),
    cert(f.apiServerCert, certs.apiServer.certificatePem),
    secret(f.apiServerKey, certs.apiServer.privateKeyPem),
    cert(f.apiServerKubeletClientCert, certs.apiServerKubeletClient.certificatePem),
    secret(f.apiServerKubeletClientKey, certs.apiServerKubeletClient.privateKeyPem),
    cert(f.apiServerEtcdClientCert, certs.apiServerEtcdClient.certificatePem),
    secret(f.apiServerEtcdClientKey, certs.apiServerEtcdClient.privateKeyPem),
    cert(f.etcdServerCert, certs.etcdServer.certificatePem),
    secret(f.etcdServerKey, certs.etcdServer.privateKeyPem),
    secret(f.adminKubeconfig, kubeconfig(IDENTITIES.admin.commonName, certs.admin)),
    secret(f.controllerManagerKubeconfig, kubeconfig(IDENTITIES.controllerManager.commonName, certs.controllerManager)),
    secret(f.schedulerKubeconfig, kubeconfig(IDENTITIES.scheduler.commonName, certs.scheduler)),
  ]
}

export interface NodeFilesInput {
  kubelet: KubeletInput
  /** This node's pod range (Node.spec.podCIDR): without it, no CNI configuration yet (the node stays NotReady). */
  nodePodCidr?: string
  podCidr?: string
  certificates: NodeCertificates
  /** kube-proxy's client certificate (one identity, system:kube-proxy, for every node). */
  kubeProxy: KeyPairPem
  sandboxImage?: string
  /** Folder of the CNI plugins on this host (Debian: /usr/lib/cni). */
  cniBinDir?: string
}

export function nodeFiles(id: ClusterIdentity, input: NodeFilesInput): HostFile[] {
  const l = input.kubelet.layout
  const f = l.files
  return [
    cert(f.caCert, id.caPem),
    cert(f.kubeletCert, input.certificates.client.certificatePem),
    secret(f.kubeletKey, input.certificates.client.privateKeyPem),
    cert(f.kubeletServingCert, input.certificates.serving.certificatePem),
    secret(f.kubeletServingKey, input.certificates.serving.privateKeyPem),
    secret(f.kubeletKubeconfig, renderClientKubeconfig(id, `system:node:${input.kubelet.nodeName}`, input.certificates.client)),
    secret(f.kubeProxyKubeconfig, renderClientKubeconfig(id, IDENTITIES.kubeProxy.commonName, input.kubeProxy)),
    cert(f.kubeletConfig, renderKubeletConfig(input.kubelet)),
    cert(f.kubeProxyConfig, renderKubeProxyConfig({...input.kubelet, podCidr: input.podCidr})),
    ...(input.nodePodCidr ? [cert(f.cniConfig, renderCniConfig({nodePodCidr: input.nodePodCidr, podCidr: input.podCidr, ipamDataDir: l.cniDataDir}))] : []),
    cert(l.containerdConfig, renderContainerdConfig({layout: l, sandboxImage: input.sandboxImage ?? PAUSE_IMAGE, cgroupDriver: input.kubelet.cgroupDriver, cniBinDir: input.cniBinDir})),
  ]
}

/** A kubeconfig for a client on a cluster host: the API server at the head's private address. */
export function renderClientKubeconfig(id: ClusterIdentity, user: string, pair: KeyPairPem): string {
  return renderKubeconfig({
    clusterName: id.cluster,
    server: apiServerUrl(id.headAddress, id.apiServerPort ?? KUBERNETES_PORTS.apiServer),
    caPem: id.caPem,
    userName: user,
    clientCertificatePem: pair.certificatePem,
    clientKeyPem: pair.privateKeyPem,
  })
}

function secret(path: string, content: string): HostFile {
  return {path, content, mode: 0o600}
}

function cert(path: string, content: string): HostFile {
  return {path, content, mode: 0o644}
}
