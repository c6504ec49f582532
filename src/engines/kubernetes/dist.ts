import {artifactFromSettings, artifactSettings, checkArtifactSource, resolveArtifact, type Artifact, type ArtifactKind} from '../artifact.js'

export const KUBERNETES_VERSION = 'v1.34.2'
export const COREDNS_VERSION = '1.12.4'
export const LOCAL_PATH_VERSION = '0.0.30'

/**
 * The Kubernetes server binaries (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy,
 * kubectl) under a `bin/` folder: the official server archive (kubernetes/server/bin/) or the testbed's build
 * (bin/). etcd, containerd, runc and the CNI plugins come from the hosts' packages.
 */
export const KUBERNETES_DIST: ArtifactKind = {
  what: 'Kubernetes',
  flag: '--k8s-dist',
  envVar: 'CMS_K8S_DIST',
  defaultUrl: `https://dl.k8s.io/${KUBERNETES_VERSION}/kubernetes-server-linux-amd64.tar.gz`,
  extensions: ['.tgz', '.tar'],
}
export const KUBERNETES_PROBE = 'bin/kubelet'

/** CoreDNS for cluster DNS: the official release archive holds one `coredns` binary; cms makes its image on each node. */
export const COREDNS_DIST: ArtifactKind = {
  what: 'CoreDNS',
  flag: '--coredns-dist',
  envVar: 'CMS_COREDNS_DIST',
  defaultUrl: `https://github.com/coredns/coredns/releases/download/v${COREDNS_VERSION}/coredns_${COREDNS_VERSION}_linux_amd64.tgz`,
  extensions: ['.tgz', '.tar'],
}
export const COREDNS_PROBE = 'coredns'

/**
 * rancher's local-path-provisioner, the default StorageClass's provisioner: one static binary; cms makes its image
 * on each node. The project publishes container images only, so there is no release archive to default to.
 */
export const LOCAL_PATH_DIST: ArtifactKind = {
  what: 'local-path-provisioner',
  flag: '--local-path-dist',
  envVar: 'CMS_LOCAL_PATH_DIST',
  noDefault: `no local-path-provisioner archive (the default StorageClass's provisioner): pass --local-path-dist PATH or set CMS_LOCAL_PATH_DIST (scripts/local-path-dist.sh builds local-path-provisioner ${LOCAL_PATH_VERSION} from the Go module proxy)`,
  extensions: ['.tgz', '.tar'],
}
export const LOCAL_PATH_PROBE = 'local-path-provisioner'

export function checkKubernetesDistSource(spec: string | undefined): string {
  return checkArtifactSource(spec, KUBERNETES_DIST)
}

export function checkCoreDnsDistSource(spec: string | undefined): string {
  return checkArtifactSource(spec, COREDNS_DIST)
}

export function checkLocalPathDistSource(spec: string | undefined): string {
  return checkArtifactSource(spec, LOCAL_PATH_DIST)
}

export function kubernetesVersionFromName(name: string): string | undefined {
  return /kubernetes-(v\d+\.\d+\.\d+[\w.+-]*?)-linux/.exec(name)?.[1]
}

export function coreDnsVersionFromName(name: string): string | undefined {
  return /coredns_(\d+\.\d+\.\d+)_/.exec(name)?.[1]
}

export function localPathVersionFromName(name: string): string | undefined {
  return /local-path-provisioner_(\d+\.\d+\.\d+)_/.exec(name)?.[1]
}

export function resolveKubernetesDist(source: string, log: (line: string) => void): Promise<Artifact> {
  return resolveArtifact(source, KUBERNETES_DIST, {log, probe: KUBERNETES_PROBE, version: kubernetesVersionFromName})
}

export function resolveCoreDnsDist(source: string, log: (line: string) => void): Promise<Artifact> {
  return resolveArtifact(source, COREDNS_DIST, {log, probe: COREDNS_PROBE, version: coreDnsVersionFromName})
}

export function resolveLocalPathDist(source: string, log: (line: string) => void): Promise<Artifact> {
  return resolveArtifact(source, LOCAL_PATH_DIST, {log, probe: LOCAL_PATH_PROBE, version: localPathVersionFromName})
}

export const recordKubernetesDist = (a: Artifact) => artifactSettings('k8s', a)
export const recordCoreDnsDist = (a: Artifact) => artifactSettings('coredns', a)
export const recordLocalPathDist = (a: Artifact) => artifactSettings('localPath', a)
export const recordedKubernetesDist = (s: Record<string, string>) => artifactFromSettings('k8s', s, KUBERNETES_DIST, KUBERNETES_PROBE)
export const recordedCoreDnsDist = (s: Record<string, string>) => artifactFromSettings('coredns', s, COREDNS_DIST, COREDNS_PROBE)
export const recordedLocalPathDist = (s: Record<string, string>) => artifactFromSettings('localPath', s, LOCAL_PATH_DIST, LOCAL_PATH_PROBE)
