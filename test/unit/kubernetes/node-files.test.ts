import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {createClusterAuthorities, issueControlPlaneCertificates, issueNodeCertificates} from '../../../src/engines/kubernetes/cluster-pki.js'
import {kubernetesLayout} from '../../../src/engines/kubernetes/layout.js'
import {controlPlaneFiles, nodeFiles} from '../../../src/engines/kubernetes/node-files.js'

const layout = kubernetesLayout('/root', 'demo')
const auth = createClusterAuthorities()
const certs = issueControlPlaneCertificates(auth, {headAddress: '172.30.0.2', headName: 'head'})
const id = {cluster: 'demo', headAddress: '172.30.0.2', caPem: auth.ca.certificatePem}
const node = (name: string, address: string, podCidr: string) =>
  nodeFiles(id, {
    kubelet: {layout, nodeName: name, nodeAddress: address, binDir: '/opt/k8s/bin'},
    nodePodCidr: podCidr,
    certificates: issueNodeCertificates(auth.ca, {name, address}),
    kubeProxy: certs.kubeProxy,
  })

describe('the files of a cluster host', () => {
  it('together cover every file of the layout, keys and kubeconfigs 0600', () => {
    const head = [...controlPlaneFiles(layout, id, auth, certs), ...node('head', '172.30.0.2', '10.244.1.0/24')]
    const paths = head.map((f) => f.path)
    expect(new Set(paths).size).toBe(paths.length)
    expect(paths.sort()).toEqual([...Object.values(layout.files), layout.containerdConfig].sort())
    for (const f of head) {
      const secret = /\.key$|kubeconfig$/.test(f.path) || f.content.includes('PRIVATE KEY')
      expect(f.mode, f.path).toBe(secret ? 0o600 : 0o644)
    }
  })

  it('give a worker no control-plane secret and point every kubeconfig at the head', () => {
    const worker = node('worker-2', '172.30.0.3', '10.244.2.0/24')
    const paths = worker.map((f) => f.path)
    for (const p of [layout.files.caKey, layout.files.etcdCaKey, layout.files.serviceAccountKey, layout.files.adminKubeconfig, layout.files.apiServerKey]) expect(paths).not.toContain(p)
    expect(worker.some((f) => f.content.includes(auth.ca.privateKeyPem))).toBe(false)
    const kubelet = parse(worker.find((f) => f.path === layout.files.kubeletKubeconfig)!.content)
    expect(kubelet.clusters[0].cluster.server).toBe('https://172.30.0.2:6443')
    expect(kubelet.users[0].name).toBe('system:node:worker-2')
    expect(parse(worker.find((f) => f.path === layout.files.kubeletConfig)!.content).address).toBe('172.30.0.3')
    expect(JSON.parse(worker.find((f) => f.path === layout.files.cniConfig)!.content).plugins[0].ipam.ranges).toEqual([[{subnet: '10.244.2.0/24'}]])
    expect(() => controlPlaneFiles(layout, {...id, caPem: createClusterAuthorities().ca.certificatePem}, auth, certs)).toThrow(/not this cluster's/)
  })
})
