import {remoteClusterDir} from '../../cluster/manifest.js'
import {validateClusterName} from '../../cluster/names.js'

/**
 * Where a cms Kubernetes cluster lives on a host. Configuration, certificates and kubeconfigs (small, 0600) go in
 * the cluster's folder under the remote user's home; data that needs a real filesystem (containerd's overlayfs
 * snapshots cannot sit on a container's overlay root, etcd wants fsync) under /var/lib/cms/CLUSTER, runtime state
 * (containerd's socket) under /run/cms/CLUSTER. cms owns all three and `kill` removes them; nothing of the host's
 * own containerd, /etc/cni or /var/lib/kubelet is touched.
 */
export interface KubernetesLayout {
  clusterDir: string
  dir: string
  pkiDir: string
  /** The head's secrets: CA keys, the service-account key, the admin credentials. */
  secretsDir: string
  kubeconfigDir: string
  configDir: string
  logDir: string
  pidDir: string
  dataDir: string
  runDir: string
  etcdDataDir: string
  kubeletRootDir: string
  containerdRoot: string
  containerdState: string
  containerdSocket: string
  containerdConfig: string
  cniConfDir: string
  cniDataDir: string
  /** The local-path StorageClass's volumes (a folder per volume). */
  volumesDir: string
  files: {
    caCert: string
    etcdCaCert: string
    apiServerCert: string
    apiServerKey: string
    apiServerKubeletClientCert: string
    apiServerKubeletClientKey: string
    apiServerEtcdClientCert: string
    apiServerEtcdClientKey: string
    etcdServerCert: string
    etcdServerKey: string
    serviceAccountKey: string
    serviceAccountPublicKey: string
    caKey: string
    etcdCaKey: string
    kubeletCert: string
    kubeletKey: string
    kubeletServingCert: string
    kubeletServingKey: string
    adminKubeconfig: string
    controllerManagerKubeconfig: string
    schedulerKubeconfig: string
    kubeletKubeconfig: string
    kubeProxyKubeconfig: string
    kubeletConfig: string
    kubeProxyConfig: string
    cniConfig: string
  }
}

export function kubernetesLayout(home: string, cluster: string): KubernetesLayout {
  validateClusterName(cluster)
  if (!home.startsWith('/')) throw new Error(`the remote home must be an absolute path: ${JSON.stringify(home)}`)
  const clusterDir = remoteClusterDir(home, cluster)
  const dir = `${clusterDir}/kubernetes`
  const pkiDir = `${dir}/pki`
  const secretsDir = `${dir}/secrets`
  const kubeconfigDir = `${dir}/kubeconfig`
  const configDir = `${dir}/config`
  const dataDir = `/var/lib/cms/${cluster}`
  const runDir = `/run/cms/${cluster}`
  return {
    clusterDir,
    dir,
    pkiDir,
    secretsDir,
    kubeconfigDir,
    configDir,
    logDir: `${dir}/logs`,
    pidDir: `${dir}/run`,
    dataDir,
    runDir,
    etcdDataDir: `${dataDir}/etcd`,
    kubeletRootDir: `${dataDir}/kubelet`,
    containerdRoot: `${dataDir}/containerd`,
    containerdState: `${runDir}/containerd`,
    containerdSocket: `${runDir}/containerd/containerd.sock`,
    containerdConfig: `${configDir}/containerd.toml`,
    cniConfDir: `${configDir}/cni`,
    cniDataDir: `${dataDir}/cni`,
    volumesDir: `${dataDir}/volumes`,
    files: {
      caCert: `${pkiDir}/ca.crt`,
      etcdCaCert: `${pkiDir}/etcd-ca.crt`,
      apiServerCert: `${pkiDir}/apiserver.crt`,
      apiServerKey: `${pkiDir}/apiserver.key`,
      apiServerKubeletClientCert: `${pkiDir}/apiserver-kubelet-client.crt`,
      apiServerKubeletClientKey: `${pkiDir}/apiserver-kubelet-client.key`,
      apiServerEtcdClientCert: `${pkiDir}/apiserver-etcd-client.crt`,
      apiServerEtcdClientKey: `${pkiDir}/apiserver-etcd-client.key`,
      etcdServerCert: `${pkiDir}/etcd-server.crt`,
      etcdServerKey: `${pkiDir}/etcd-server.key`,
      serviceAccountKey: `${secretsDir}/sa.key`,
      serviceAccountPublicKey: `${pkiDir}/sa.pub`,
      caKey: `${secretsDir}/ca.key`,
      etcdCaKey: `${secretsDir}/etcd-ca.key`,
      kubeletCert: `${pkiDir}/kubelet-client.crt`,
      kubeletKey: `${pkiDir}/kubelet-client.key`,
      kubeletServingCert: `${pkiDir}/kubelet.crt`,
      kubeletServingKey: `${pkiDir}/kubelet.key`,
      adminKubeconfig: `${secretsDir}/admin.kubeconfig`,
      controllerManagerKubeconfig: `${kubeconfigDir}/controller-manager.kubeconfig`,
      schedulerKubeconfig: `${kubeconfigDir}/scheduler.kubeconfig`,
      kubeletKubeconfig: `${kubeconfigDir}/kubelet.kubeconfig`,
      kubeProxyKubeconfig: `${kubeconfigDir}/kube-proxy.kubeconfig`,
      kubeletConfig: `${configDir}/kubelet.yaml`,
      kubeProxyConfig: `${configDir}/kube-proxy.yaml`,
      cniConfig: `${configDir}/cni/10-cms.conflist`,
    },
  }
}

/** A component's log and pid files (etcd, kube-apiserver, kubelet, containerd, ...). */
export function componentFiles(l: KubernetesLayout, component: string): {log: string; pid: string} {
  if (!/^[a-z][a-z-]*$/.test(component)) throw new Error(`not a component name: ${JSON.stringify(component)}`)
  return {log: `${l.logDir}/${component}.log`, pid: `${l.pidDir}/${component}.pid`}
}
