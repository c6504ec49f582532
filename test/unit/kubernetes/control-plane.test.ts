import {describe, expect, it} from 'vitest'
import {apiServerArgs, controllerManagerArgs, etcdArgs, schedulerArgs, serviceAccountIssuer} from '../../../src/engines/kubernetes/control-plane.js'
import {kubernetesLayout} from '../../../src/engines/kubernetes/layout.js'

const layout = kubernetesLayout('/root', 'demo')
const input = {layout, headAddress: '172.30.0.2', headName: 'hk8-demo-1', binDir: '/root/.cms/dist/k8s/bin'}

/** --flag=value pairs of an argv (the binary first). */
function flags(argv: string[]): Map<string, string> {
  const m = new Map<string, string>()
  for (const a of argv.slice(1)) {
    expect(a).toMatch(/^--[a-z0-9-]+=/)
    const i = a.indexOf('=')
    expect(m.has(a.slice(2, i)), `${a} given twice`).toBe(false)
    m.set(a.slice(2, i), a.slice(i + 1))
  }
  return m
}

describe('control-plane command lines', () => {
  it('runs etcd on loopback only, with mutual TLS from the etcd CA', () => {
    const argv = etcdArgs(input)
    expect(argv[0]).toBe('/usr/bin/etcd')
    const f = flags(argv)
    expect(f.get('listen-client-urls')).toBe('https://127.0.0.1:12379')
    expect(f.get('listen-peer-urls')).toBe('http://127.0.0.1:12380')
    expect(f.get('client-cert-auth')).toBe('true')
    expect(f.get('trusted-ca-file')).toBe(layout.files.etcdCaCert)
    expect(f.get('data-dir')).toBe('/var/lib/cms/demo/etcd')
    expect(f.get('initial-cluster')).toBe('hk8-demo-1=http://127.0.0.1:12380')
    expect(argv.join(' ')).not.toMatch(/0\.0\.0\.0|172\.30/)
  })

  it("binds the API server to the head's private address only, Node,RBAC with NodeRestriction, no anonymous access", () => {
    const argv = apiServerArgs(input)
    expect(argv[0]).toBe('/root/.cms/dist/k8s/bin/kube-apiserver')
    const f = flags(argv)
    expect(f.get('bind-address')).toBe('172.30.0.2')
    expect(f.get('advertise-address')).toBe('172.30.0.2')
    expect(f.get('secure-port')).toBe('6443')
    expect(f.get('authorization-mode')).toBe('Node,RBAC')
    expect(f.get('enable-admission-plugins')).toBe('NodeRestriction')
    expect(f.get('anonymous-auth')).toBe('false')
    expect(f.get('allow-privileged')).toBe('false')
    expect(f.get('client-ca-file')).toBe(layout.files.caCert)
    expect(f.get('etcd-servers')).toBe('https://127.0.0.1:12379')
    expect(f.get('etcd-cafile')).toBe(layout.files.etcdCaCert)
    expect(f.get('kubelet-certificate-authority')).toBe(layout.files.caCert)
    expect(f.get('service-cluster-ip-range')).toBe('10.96.0.0/12')
    expect(f.get('service-account-issuer')).toBe('https://kubernetes.default.svc.cluster.local')
    expect(f.get('service-account-key-file')).toBe(layout.files.serviceAccountPublicKey)
    expect(f.get('service-account-signing-key-file')).toBe(layout.files.serviceAccountKey)
    expect(f.has('insecure-port')).toBe(false)
    // Debian's etcd 3.4 cannot serve watch-list requests: plain watches (fabric8's, spark-submit's) must stay plain.
    expect(f.get('feature-gates')).toBe('WatchList=false')
    expect(flags(apiServerArgs({...input, allowPrivileged: true, apiServerPort: 16443})).get('secure-port')).toBe('16443')
  })

  it('gives the controller manager and scheduler their own kubeconfigs and loopback ports; Kubernetes assigns each node its pod range', () => {
    const cm = flags(controllerManagerArgs(input))
    expect(cm.get('kubeconfig')).toBe(layout.files.controllerManagerKubeconfig)
    expect(cm.get('authentication-kubeconfig')).toBe(layout.files.controllerManagerKubeconfig)
    expect(cm.get('bind-address')).toBe('127.0.0.1')
    expect(cm.get('use-service-account-credentials')).toBe('true')
    expect(cm.get('service-account-private-key-file')).toBe(layout.files.serviceAccountKey)
    expect(cm.get('allocate-node-cidrs')).toBe('true')
    expect(cm.get('node-cidr-mask-size')).toBe('24')
    expect(cm.get('cluster-cidr')).toBe('10.244.0.0/16')
    const s = flags(schedulerArgs(input))
    expect(s.get('kubeconfig')).toBe(layout.files.schedulerKubeconfig)
    expect(s.get('bind-address')).toBe('127.0.0.1')
    expect(s.get('leader-elect')).toBe('false')
    // Their own ports trust the cluster CA and do not look up a front-proxy CA the cluster does not have.
    for (const m of [cm, s]) {
      expect(m.get('authentication-skip-lookup')).toBe('true')
      expect(m.get('client-ca-file')).toBe(layout.files.caCert)
    }
  })

  it('refuses wildcard or malformed addresses, relative paths and overlapping ranges', () => {
    for (const fn of [etcdArgs, apiServerArgs, controllerManagerArgs, schedulerArgs]) {
      expect(() => fn({...input, headAddress: '0.0.0.0'})).toThrow(/wildcard/)
      expect(() => fn({...input, headAddress: 'head'})).toThrow(/IP address/)
      expect(() => fn({...input, binDir: 'bin'})).toThrow(/absolute/)
      expect(() => fn({...input, serviceCidr: '10.244.0.0/20'})).toThrow(/overlaps the pod network/)
      expect(() => fn({...input, podCidr: '10.244.0.0'})).toThrow(/CIDR/)
    }
    expect(() => apiServerArgs({...input, apiServerPort: 70000})).toThrow(/port/)
    expect(serviceAccountIssuer('k8s.test')).toBe('https://kubernetes.default.svc.k8s.test')
  })

  it('keeps every file of a cluster in its own folders', () => {
    expect(() => kubernetesLayout('/root', '../x')).toThrow(/invalid cluster name/)
    expect(() => kubernetesLayout('root', 'demo')).toThrow(/absolute/)
    for (const p of Object.values(layout.files)) expect(p).toMatch(/^\/root\/\.cms\/clusters\/demo\/kubernetes\//)
    expect(layout.files.caKey.startsWith(layout.secretsDir)).toBe(true)
    expect(layout.files.serviceAccountKey.startsWith(layout.secretsDir)).toBe(true)
    expect(layout.containerdSocket).toBe('/run/cms/demo/containerd/containerd.sock')
  })
})
