import {X509Certificate} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {createClusterAuthorities, issueControlPlaneCertificates} from '../../../src/engines/kubernetes/cluster-pki.js'
import {apiServerUrl, renderKubeconfig} from '../../../src/engines/kubernetes/kubeconfig.js'

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
})
