import {X509Certificate} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {createClusterAuthorities, issueControlPlaneCertificates} from '../../../src/engines/kubernetes/cluster-pki.js'
import {addTokenContext, apiServerUrl, mergeKubeconfig, renderKubeconfig} from '../../../src/engines/kubernetes/kubeconfig.js'

const auth = createClusterAuthorities()
const certs = issueControlPlaneCertificates(auth, {headAddress: '172.30.0.2', headName: 'head'})
const base = {
  clusterName: 'demo',
  server: 'https://172.30.0.2:6443',
  caPem: auth.ca.certificatePem,
  userName: 'system:kube-scheduler',
  clientCertificatePem: certs.scheduler.certificatePem,
  clientKeyPem: certs.scheduler.privateKeyPem,
}

describe('kubeconfig rendering', () => {
  it('embeds the CA, the client certificate and key, and makes its one context current', () => {
    const doc = parse(renderKubeconfig(base))
    expect(doc).toMatchObject({apiVersion: 'v1', kind: 'Config', 'current-context': 'system:kube-scheduler@demo'})
    expect(doc.clusters).toEqual([{name: 'demo', cluster: {'certificate-authority-data': expect.any(String), server: 'https://172.30.0.2:6443'}}])
    expect(doc.contexts).toEqual([{name: 'system:kube-scheduler@demo', context: {cluster: 'demo', user: 'system:kube-scheduler'}}])
    const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8')
    expect(decode(doc.clusters[0].cluster['certificate-authority-data'])).toBe(auth.ca.certificatePem)
    expect(decode(doc.users[0].user['client-certificate-data'])).toBe(certs.scheduler.certificatePem)
    expect(decode(doc.users[0].user['client-key-data'])).toBe(certs.scheduler.privateKeyPem)
    expect(new X509Certificate(decode(doc.users[0].user['client-certificate-data'])).subject).toBe('CN=system:kube-scheduler')
  })

  it('takes a context name, a namespace and a TLS server name (a tunnel on loopback)', () => {
    const doc = parse(renderKubeconfig({...base, server: 'https://127.0.0.1:41234', contextName: 'cms-demo', namespace: 'jobs', tlsServerName: 'kubernetes'}))
    expect(doc['current-context']).toBe('cms-demo')
    expect(doc.contexts[0].context).toEqual({cluster: 'demo', user: 'system:kube-scheduler', namespace: 'jobs'})
    expect(doc.clusters[0].cluster['tls-server-name']).toBe('kubernetes')
  })

  it('refuses what would make a broken or unsafe file', () => {
    expect(() => renderKubeconfig({...base, server: 'http://172.30.0.2:6443'})).toThrow(/https/)
    expect(() => renderKubeconfig({...base, server: 'https://172.30.0.2:6443/api'})).toThrow(/https:\/\/HOST:PORT/)
    expect(() => renderKubeconfig({...base, server: 'not a url'})).toThrow(/not a URL/)
    expect(() => renderKubeconfig({...base, caPem: 'junk'})).toThrow(/CA certificate is not a PEM certificate/)
    expect(() => renderKubeconfig({...base, clientKeyPem: certs.scheduler.certificatePem})).toThrow(/client key is not a PEM private key/)
    expect(() => renderKubeconfig({...base, clusterName: 'a b'})).toThrow(/cluster name/)
    expect(() => renderKubeconfig({...base, userName: "x\n- name: evil"})).toThrow(/user name/)
    expect(() => renderKubeconfig({...base, namespace: 'Jobs'})).toThrow(/namespace/)
  })

  it('writes IPv6 addresses in brackets', () => {
    expect(apiServerUrl('172.30.0.2', 6443)).toBe('https://172.30.0.2:6443')
    expect(apiServerUrl('fd00::2', 6443)).toBe('https://[fd00::2]:6443')
    expect(() => apiServerUrl('172.30.0.2', 0)).toThrow()
  })

  describe('merging into an existing kubeconfig', () => {
    const ours = renderKubeconfig({...base, server: 'https://127.0.0.1:41234', userName: 'cms-demo', contextName: 'cms-demo', clusterName: 'cms-demo'})
    const theirs = [
      '# my clusters',
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: prod # do not touch',
      '    cluster: {server: "https://prod.example:6443"}',
      'users:',
      '  - name: me',
      '    user: {token: abc}',
      'contexts:',
      '  - name: prod',
      '    context: {cluster: prod, user: me}',
      'current-context: prod',
      '',
    ].join('\n')

    it('adds cms\'s entries next to the others, keeps their comments, and makes its context current', () => {
      const merged = mergeKubeconfig(theirs, ours)
      expect(merged).toContain('# my clusters')
      expect(merged).toContain('# do not touch')
      const doc = parse(merged)
      expect(doc.clusters.map((c: {name: string}) => c.name)).toEqual(['prod', 'cms-demo'])
      expect(doc.users.map((c: {name: string}) => c.name)).toEqual(['me', 'cms-demo'])
      expect(doc.contexts.map((c: {name: string}) => c.name)).toEqual(['prod', 'cms-demo'])
      expect(doc.clusters[0]).toEqual({name: 'prod', cluster: {server: 'https://prod.example:6443'}})
      expect(doc.users[0]).toEqual({name: 'me', user: {token: 'abc'}})
      expect(doc['current-context']).toBe('cms-demo')
    })

    it("replaces cms's own entries from an earlier run instead of adding twice", () => {
      const again = renderKubeconfig({...base, server: 'https://127.0.0.1:50000', userName: 'cms-demo', contextName: 'cms-demo', clusterName: 'cms-demo'})
      const doc = parse(mergeKubeconfig(mergeKubeconfig(theirs, ours), again))
      expect(doc.clusters.map((c: {name: string}) => c.name)).toEqual(['prod', 'cms-demo'])
      expect(doc.clusters[1].cluster.server).toBe('https://127.0.0.1:50000')
      expect(doc.contexts).toHaveLength(2)
    })

    it('starts a new file, fills missing lists, and refuses what is not a kubeconfig', () => {
      expect(mergeKubeconfig(undefined, ours)).toBe(ours)
      expect(mergeKubeconfig('  \n', ours)).toBe(ours)
      expect(parse(mergeKubeconfig('apiVersion: v1\nkind: Config\n', ours)).contexts).toHaveLength(1)
      expect(() => mergeKubeconfig('kind: Pod\n', ours)).toThrow(/a Pod, not a kubeconfig/)
      expect(() => mergeKubeconfig('- a\n- b\n', ours)).toThrow(/not a YAML mapping/)
      expect(() => mergeKubeconfig('a: [\n', ours)).toThrow(/not valid YAML/)
      expect(() => mergeKubeconfig('kind: Config\nclusters: 3\n', ours)).toThrow(/clusters is not a list/)
    })
  })
})

describe('a token context beside the admin one', () => {
  it('adds a token user and a context on the same cluster; the current context stays', () => {
    const admin = renderKubeconfig({...base, server: 'https://127.0.0.1:41234', contextName: 'cms-demo'})
    const once = addTokenContext(admin, {contextName: 'cms-demo-spark', userName: 'cms-demo-spark', token: 'eyJhbGciOi.payload.sig', namespace: 'default'})
    const twice = addTokenContext(once, {contextName: 'cms-demo-spark', userName: 'cms-demo-spark', token: 'eyJhbGciOi.other.sig', namespace: 'default'})
    const doc = parse(twice)
    expect(doc['current-context']).toBe('cms-demo')
    expect(doc.users.map((u: {name: string}) => u.name)).toEqual([parse(admin).users[0].name, 'cms-demo-spark'])
    expect(doc.users[1].user).toEqual({token: 'eyJhbGciOi.other.sig'})
    expect(doc.contexts[1]).toEqual({name: 'cms-demo-spark', context: {cluster: parse(admin).clusters[0].name, user: 'cms-demo-spark', namespace: 'default'}})
    expect(() => addTokenContext(admin, {contextName: 'x', userName: 'x', token: 'a\nb', namespace: 'default'})).toThrow(/not a bearer token/)
  })
})
