/**
 * Renders, for bench/k8s-create-vs-ansible.sh, everything the Ansible playbook (bench/ansible/kubernetes.yml)
 * pushes to its hosts, with cms's own renderers (src/engines/kubernetes), so both tools write the same files and
 * start the same command lines: the PKI (a per-cluster CA and every certificate and kubeconfig), the containerd,
 * kubelet and kube-proxy configurations, the start script of each component (startComponentScript: nohup setsid,
 * pid file, log), the pause and CoreDNS image imports, the CNI configuration (as a Jinja template: each node's
 * /24 is only known once Kubernetes assigns it) and the CoreDNS manifests. Also prints the k8s-host image tag cms
 * uses and its `docker run` options. Rendering happens before the timed window: what is compared is the transfer,
 * the configuration and the start.
 *
 * Bundled and run by the bench script: node k8s-render.bundle.mjs SPEC.json OUT_DIR, where SPEC is
 * {cluster, hosts: [{name, address}], binDir, corednsBinary, corednsVersion, repoDir}; the first host is the head.
 */
import {createHash} from 'node:crypto'
import {chmodSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {createClusterAuthorities, IDENTITIES, issueControlPlaneCertificates, issueNodeCertificates, LEAF_VALIDITY_DAYS} from '../src/engines/kubernetes/cluster-pki.js'
import {apiServerArgs, controllerManagerArgs, etcdArgs, schedulerArgs} from '../src/engines/kubernetes/control-plane.js'
import {COREDNS_IMAGE, renderCoreDnsManifests} from '../src/engines/kubernetes/coredns.js'
import {kubernetesLayout} from '../src/engines/kubernetes/layout.js'
import {clusterDnsAddress, DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR} from '../src/engines/kubernetes/network.js'
import {kubeletArgs, kubeProxyArgs, type KubeletInput} from '../src/engines/kubernetes/node-config.js'
import {nodeContainerRunArgs} from '../src/engines/kubernetes/node-container.js'
import {controlPlaneFiles, nodeFiles, type ClusterIdentity, type HostFile} from '../src/engines/kubernetes/node-files.js'
import {importBinaryImageScript, importPauseImageScript} from '../src/engines/kubernetes/pause-image.js'
import {MASQUERADE_COMMENT, renderCniConfig} from '../src/engines/kubernetes/pod-network.js'
import {prepareDirsScript, startComponentScript, type Component} from '../src/engines/kubernetes/scripts.js'
import {issueCertificate} from '../src/engines/pki.js'
import {hostImageTag, variantImageTag} from '../src/providers/docker/provider.js'

interface Spec {
  cluster: string
  hosts: Array<{name: string; address: string}>
  binDir: string
  corednsBinary: string
  corednsVersion: string
  repoDir: string
}

const [specFile, out] = process.argv.slice(2)
if (!specFile || !out) throw new Error('usage: k8s-render SPEC.json OUT_DIR')
const spec = JSON.parse(readFileSync(specFile, 'utf8')) as Spec
const podCidr = DEFAULT_POD_CIDR
const serviceCidr = DEFAULT_SERVICE_CIDR
const home = '/root'
const layout = kubernetesLayout(home, spec.cluster)
const head = spec.hosts[0]!
const corednsImage = COREDNS_IMAGE(spec.corednsVersion)
/** Where the playbook puts the rendered scripts on each host. */
const scriptDir = '/root/bench/k8s'

const auth = createClusterAuthorities()
const certs = issueControlPlaneCertificates(auth, {headAddress: head.address, headName: head.name, serviceCidr})
const id: ClusterIdentity = {cluster: spec.cluster, headAddress: head.address, caPem: auth.ca.certificatePem}
const cp = {layout, headAddress: head.address, headName: head.name, binDir: spec.binDir, podCidr, serviceCidr}
const kubeProxyRequest = {commonName: IDENTITIES.kubeProxy.commonName, keyUsages: ['digitalSignature' as const], extendedKeyUsages: ['clientAuth' as const], validityDays: LEAF_VALIDITY_DAYS}

function write(path: string, content: string | Buffer, mode: number): void {
  mkdirSync(dirname(path), {recursive: true, mode: 0o700})
  writeFileSync(path, content, {mode})
  chmodSync(path, mode)
}

// The head's role label is what cms gives its head host; the others are workers.
for (const [i, host] of spec.hosts.entries()) {
  const isHead = i === 0
  const kubelet: KubeletInput = {
    layout,
    nodeName: host.name,
    nodeAddress: host.address,
    binDir: spec.binDir,
    labels: {'cms.cluster': spec.cluster, 'cms.role': isHead ? 'head' : 'worker'},
    clusterDns: [clusterDnsAddress(serviceCidr)],
  }
  const files: HostFile[] = [
    ...(isHead ? [...controlPlaneFiles(layout, id, auth, certs)] : []),
    ...nodeFiles(id, {kubelet, podCidr, cniBinDir: '/usr/lib/cni', certificates: issueNodeCertificates(auth.ca, {name: host.name, address: host.address}), kubeProxy: issueCertificate(auth.ca, kubeProxyRequest)}),
  ]
  // The same configuration hash as the engine's start(): the command line and every file of the host.
  const filesHash = createHash('sha256')
  for (const f of files) filesHash.update(f.path).update('\0').update(f.content).update('\0')
  const filesDigest = filesHash.digest('hex')
  const start = (component: Component, argv: string[]) =>
    startComponentScript(layout, component, argv, createHash('sha256').update(argv.join('\0')).update(filesDigest).digest('hex').slice(0, 16))
  const scripts: Record<string, string> = {
    'prepare-dirs.sh': prepareDirsScript(layout),
    'start-containerd.sh': start('containerd', ['/usr/bin/containerd', '--config', layout.containerdConfig]),
    'import-images.sh': [
      `for _ in $(seq 1 60); do [ -S '${layout.containerdSocket}' ] && break; sleep 0.25; done`,
      `(\n${importPauseImageScript({socket: layout.containerdSocket})}\n)`,
      `(\n${importBinaryImageScript({binary: spec.corednsBinary, name: 'coredns', ref: corednsImage, socket: layout.containerdSocket})}\n)`,
    ].join('\n'),
    'start-kubelet.sh': start('kubelet', kubeletArgs(kubelet)),
    'start-kube-proxy.sh': start('kube-proxy', kubeProxyArgs({...kubelet, podCidr})),
    ...(isHead
      ? {
          'start-etcd.sh': start('etcd', etcdArgs(cp)),
          'start-kube-apiserver.sh': start('kube-apiserver', apiServerArgs(cp)),
          'start-kube-controller-manager.sh': start('kube-controller-manager', controllerManagerArgs(cp)),
          'start-kube-scheduler.sh': start('kube-scheduler', schedulerArgs(cp)),
        }
      : {}),
  }
  const tree = join(out, 'files', host.name)
  for (const f of files) write(join(tree, f.path), f.content, f.mode)
  for (const [name, text] of Object.entries(scripts)) write(join(tree, scriptDir, name), `#!/bin/sh\n${text}\n`, 0o700)
  write(join(out, 'host_vars', `${host.name}.json`), JSON.stringify({node_name: host.name, k8s_files: tree}, null, 2), 0o600)
}

// The CNI configuration cms writes once the node has its range, with that range left to Ansible.
const placeholder = '10.244.255.0/24'
const cni = renderCniConfig({nodePodCidr: placeholder, podCidr, ipamDataDir: layout.cniDataDir})
write(join(out, 'cni.conflist.j2'), cni.replace(placeholder, '{{ node_pod_cidr }}'), 0o644)
write(join(out, 'coredns.yaml'), renderCoreDnsManifests({image: corednsImage, serviceIp: clusterDnsAddress(serviceCidr)}), 0o644)
write(
  join(out, 'group_vars', 'kubernetes.json'),
  JSON.stringify(
    {
      k8s_script_dir: scriptDir,
      k8s_bin_dir: spec.binDir,
      k8s_admin_kubeconfig: layout.files.adminKubeconfig,
      k8s_cni_config: layout.files.cniConfig,
      k8s_pod_cidr: podCidr,
      k8s_masquerade_comment: MASQUERADE_COMMENT,
      k8s_cni_template: join(out, 'cni.conflist.j2'),
      k8s_coredns_manifests: join(out, 'coredns.yaml'),
    },
    null,
    2,
  ),
  0o600,
)

const hostTag = hostImageTag(join(spec.repoDir, 'images', 'host'))
console.log(JSON.stringify({hostImage: hostTag, k8sImage: variantImageTag('k8s-host', hostTag, join(spec.repoDir, 'images', 'k8s-host')), runArgs: nodeContainerRunArgs()}))
