import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {kubernetesLayout} from '../../../src/engines/kubernetes/layout.js'
import {kubeletArgs, kubeProxyArgs, renderKubeletConfig, renderKubeProxyConfig} from '../../../src/engines/kubernetes/node-config.js'

const layout = kubernetesLayout('/root', 'demo')
const kubelet = {layout, nodeName: 'hk8-demo-2', nodeAddress: '172.30.0.3', binDir: '/opt/k8s/bin'}

describe('kubelet configuration', () => {
  it('authenticates callers by certificate or token, authorizes through the API server, never anonymously', () => {
    const c = parse(renderKubeletConfig(kubelet))
    expect(c).toMatchObject({apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration'})
    expect(c.authentication).toEqual({anonymous: {enabled: false}, webhook: {enabled: true, cacheTTL: '2m0s'}, x509: {clientCAFile: layout.files.caCert}})
    expect(c.authorization.mode).toBe('Webhook')
    expect(c.readOnlyPort).toBe(0)
    expect(c.address).toBe('172.30.0.3')
    expect(c.healthzBindAddress).toBe('127.0.0.1')
    expect(c.tlsCertFile).toBe(layout.files.kubeletServingCert)
  })

  it('runs on cgroup v1 with cgroupfs, no static pods, cms containerd, and leaves kernel settings alone', () => {
    const c = parse(renderKubeletConfig(kubelet))
    expect(c.failCgroupV1).toBe(false)
    expect(c.cgroupDriver).toBe('cgroupfs')
    expect(c.staticPodPath).toBe('')
    expect(c.containerRuntimeEndpoint).toBe('unix:///run/cms/demo/containerd/containerd.sock')
    expect(c.protectKernelDefaults).toBe(false)
    expect(c.clusterDomain).toBe('cluster.local')
    expect(c.clusterDNS).toBeUndefined()
    expect(parse(renderKubeletConfig({...kubelet, cgroupDriver: 'systemd', clusterDns: ['10.96.0.10']}))).toMatchObject({cgroupDriver: 'systemd', clusterDNS: ['10.96.0.10']})
  })

  it('passes the node name, address, root folder and labels as flags', () => {
    expect(kubeletArgs({...kubelet, labels: {'cms.cluster': 'demo', 'cms.role': 'worker'}})).toEqual([
      '/opt/k8s/bin/kubelet',
      `--config=${layout.files.kubeletConfig}`,
      `--kubeconfig=${layout.files.kubeletKubeconfig}`,
      '--root-dir=/var/lib/cms/demo/kubelet',
      '--hostname-override=hk8-demo-2',
      '--node-ip=172.30.0.3',
      '--node-labels=cms.cluster=demo,cms.role=worker',
    ])
  })

  it('refuses bad names, addresses, labels and limits', () => {
    expect(() => renderKubeletConfig({...kubelet, nodeName: 'Node_2'})).toThrow(/node name/)
    expect(() => renderKubeletConfig({...kubelet, nodeAddress: '0.0.0.0'})).toThrow(/wildcard/)
    expect(() => renderKubeletConfig({...kubelet, clusterDns: ['dns']})).toThrow(/IP address/)
    expect(() => kubeletArgs({...kubelet, labels: {'node-role.kubernetes.io/worker': ''}})).toThrow(/NodeRestriction/)
    expect(() => kubeletArgs({...kubelet, labels: {'a b': 'c'}})).toThrow(/label/)
    expect(() => kubeletArgs({...kubelet, labels: {a: 'x,y=z'}})).toThrow(/label/)
    expect(() => renderKubeletConfig({...kubelet, maxPods: 300})).toThrow(/maxPods/)
    expect(() => kubeletArgs({...kubelet, binDir: 'bin'})).toThrow(/absolute/)
  })
})

describe('kube-proxy configuration', () => {
  it('uses iptables and touches no conntrack sysctl', () => {
    const c = parse(renderKubeProxyConfig(kubelet))
    expect(c).toMatchObject({apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'iptables'})
    expect(c.conntrack).toEqual({maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s', udpTimeout: '0s', udpStreamTimeout: '0s'})
    expect(c.clusterCIDR).toBe('10.244.0.0/16')
    expect(c.hostnameOverride).toBe('hk8-demo-2')
    expect(c.clientConnection.kubeconfig).toBe(layout.files.kubeProxyKubeconfig)
    expect(c.nodePortAddresses).toEqual(['primary'])
    expect(c.healthzBindAddress).toBe('127.0.0.1:10256')
    expect(c.metricsBindAddress).toBe('127.0.0.1:10249')
    expect(kubeProxyArgs(kubelet)).toEqual(['/opt/k8s/bin/kube-proxy', `--config=${layout.files.kubeProxyConfig}`])
    expect(() => renderKubeProxyConfig({...kubelet, podCidr: '10.244.0.1/16'})).toThrow(/host bits/)
  })
})
