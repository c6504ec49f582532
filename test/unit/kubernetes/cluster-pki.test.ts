import {execFileSync} from 'node:child_process'
import {createPrivateKey, createPublicKey, sign, verify, X509Certificate} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {
  apiServerSans,
  controlPlaneCertificateSpecs,
  createClusterAuthorities,
  issueControlPlaneCertificates,
  issueNodeCertificates,
  nodeCertificateSpecs,
} from '../../../src/engines/kubernetes/cluster-pki.js'
import {checkNodeName, nodeNameFor} from '../../../src/engines/kubernetes/names.js'
import type {KeyPairPem} from '../../../src/engines/pki.js'

const input = {headAddress: '172.30.0.2', headName: 'hk8-demo-1'}

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
})()

/** Subject fields as X509Certificate prints them ("O=system:masters\nCN=cms-admin"). */
function subject(pem: string): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const line of new X509Certificate(pem).subject.split('\n')) {
    const [k, v] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]
    ;(out[k] ??= []).push(v)
  }
  return out
}

function issuedBy(cert: KeyPairPem, ca: KeyPairPem): boolean {
  const c = new X509Certificate(cert.certificatePem)
  const a = new X509Certificate(ca.certificatePem)
  return c.checkIssued(a) && c.verify(a.publicKey)
}

function keyMatches(pair: KeyPairPem): boolean {
  return new X509Certificate(pair.certificatePem).checkPrivateKey(createPrivateKey(pair.privateKeyPem))
}

describe('the cluster PKI plan', () => {
  it('lists every control-plane certificate with the identities Kubernetes RBAC expects', () => {
    const specs = Object.fromEntries(controlPlaneCertificateSpecs(input).map((s) => [s.name, s]))
    expect(Object.keys(specs).sort()).toEqual(
      ['admin', 'apiServer', 'apiServerEtcdClient', 'apiServerKubeletClient', 'controllerManager', 'etcdServer', 'kubeProxy', 'scheduler'].sort(),
    )
    expect(specs.admin!.request).toMatchObject({commonName: 'cms-admin', organizations: ['system:masters'], extendedKeyUsages: ['clientAuth']})
    expect(specs.controllerManager!.request.commonName).toBe('system:kube-controller-manager')
    expect(specs.scheduler!.request.commonName).toBe('system:kube-scheduler')
    expect(specs.kubeProxy!.request.commonName).toBe('system:kube-proxy')
    expect(specs.apiServer!.request.extendedKeyUsages).toEqual(['serverAuth'])
    expect(specs.etcdServer!.issuer).toBe('etcdCa')
    expect(specs.apiServerEtcdClient!.issuer).toBe('etcdCa')
    expect(specs.etcdServer!.request.ipAddresses).toEqual(['127.0.0.1'])
    for (const s of Object.values(specs)) if (s.name !== 'etcdServer' && s.name !== 'apiServerEtcdClient') expect(s.issuer).toBe('ca')
  })

  it("names the API server by its in-cluster names, the service address, loopback and the head's address", () => {
    expect(apiServerSans(input)).toEqual({
      dnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'hk8-demo-1'],
      ipAddresses: ['10.96.0.1', '127.0.0.1', '172.30.0.2'],
    })
    const other = apiServerSans({...input, serviceCidr: '10.100.0.0/16', clusterDomain: 'k8s.test', extraSans: ['api.example.org', '192.0.2.7', '127.0.0.1']})
    expect(other.dnsNames).toContain('kubernetes.default.svc.k8s.test')
    expect(other.dnsNames).toContain('api.example.org')
    expect(other.ipAddresses).toEqual(['10.100.0.1', '127.0.0.1', '172.30.0.2', '192.0.2.7'])
  })

  it('refuses bad input before issuing anything', () => {
    expect(() => controlPlaneCertificateSpecs({...input, headAddress: 'head'})).toThrow(/IP address/)
    expect(() => controlPlaneCertificateSpecs({...input, headAddress: '0.0.0.0'})).toThrow(/wildcard/)
    expect(() => controlPlaneCertificateSpecs({...input, headName: 'Head_1'})).toThrow(/node name/)
    expect(() => controlPlaneCertificateSpecs({...input, clusterDomain: 'bad domain'})).toThrow(/cluster domain/)
    expect(() => controlPlaneCertificateSpecs({...input, serviceCidr: '10.96.0.1/12'})).toThrow(/host bits/)
    expect(() => controlPlaneCertificateSpecs({...input, extraSans: ['1.2.3']})).toThrow(/IP address/)
    expect(() => nodeCertificateSpecs({name: 'x'.repeat(53), address: '10.0.0.1'})).toThrow(/at most 52/)
    expect(() => nodeCertificateSpecs({name: 'node-1', address: 'node-1'})).toThrow(/IP address/)
  })

  it('issues them all, each signed by its authority, with matching keys, names and usages', () => {
    const auth = createClusterAuthorities()
    const certs = issueControlPlaneCertificates(auth, input)
    expect(new X509Certificate(auth.ca.certificatePem).ca).toBe(true)
    expect(new X509Certificate(auth.etcdCa.certificatePem).ca).toBe(true)
    for (const [name, pair] of Object.entries(certs)) {
      const etcd = name === 'etcdServer' || name === 'apiServerEtcdClient'
      expect(issuedBy(pair, etcd ? auth.etcdCa : auth.ca), name).toBe(true)
      expect(issuedBy(pair, etcd ? auth.ca : auth.etcdCa), name).toBe(false)
      expect(keyMatches(pair), name).toBe(true)
      expect(new X509Certificate(pair.certificatePem).ca, name).toBe(false)
    }
    expect(subject(certs.admin.certificatePem)).toEqual({O: ['system:masters'], CN: ['cms-admin']})
    expect(subject(certs.kubeProxy.certificatePem)).toEqual({CN: ['system:kube-proxy']})
    const api = new X509Certificate(certs.apiServer.certificatePem)
    for (const n of ['kubernetes.default.svc.cluster.local', '10.96.0.1', '127.0.0.1', '172.30.0.2']) expect(api.checkHost(n) ?? api.checkIP(n), n).toBeTruthy()
    expect(api.checkIP('172.30.0.3')).toBeUndefined()
    expect(api.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1'])
    expect(new X509Certificate(certs.admin.certificatePem).keyUsage).toEqual(['1.3.6.1.5.5.7.3.2'])
    expect(new X509Certificate(certs.etcdServer.certificatePem).keyUsage?.sort()).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'])
  })

  it('gives each node a client certificate in system:nodes and a serving certificate for its name and address', () => {
    const auth = createClusterAuthorities()
    const node = issueNodeCertificates(auth.ca, {name: 'hk8-demo-2', address: '172.30.0.3'})
    expect(subject(node.client.certificatePem)).toEqual({O: ['system:nodes'], CN: ['system:node:hk8-demo-2']})
    expect(new X509Certificate(node.client.certificatePem).keyUsage).toEqual(['1.3.6.1.5.5.7.3.2'])
    const serving = new X509Certificate(node.serving.certificatePem)
    expect(serving.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1'])
    expect(serving.checkIP('172.30.0.3')).toBe('172.30.0.3')
    expect(serving.checkHost('hk8-demo-2')).toBe('hk8-demo-2')
    expect(issuedBy(node.client, auth.ca) && issuedBy(node.serving, auth.ca)).toBe(true)
    expect(keyMatches(node.client) && keyMatches(node.serving)).toBe(true)
  })

  it('makes a service-account key pair that signs and verifies ES256 tokens', () => {
    const {serviceAccount} = createClusterAuthorities()
    const data = Buffer.from('header.payload')
    const sig = sign('sha256', data, {key: createPrivateKey(serviceAccount.privateKeyPem), dsaEncoding: 'ieee-p1363'})
    expect(sig.length).toBe(64)
    expect(verify('sha256', data, {key: createPublicKey(serviceAccount.publicKeyPem), dsaEncoding: 'ieee-p1363'}, sig)).toBe(true)
    expect(serviceAccount.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/)
    expect(serviceAccount.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/)
    expect(createClusterAuthorities().serviceAccount.publicKeyPem).not.toBe(serviceAccount.publicKeyPem)
  })

  it.skipIf(!hasOpenssl)('passes openssl verify with the purposes the components check', () => {
    const auth = createClusterAuthorities()
    const certs = issueControlPlaneCertificates(auth, input)
    const node = issueNodeCertificates(auth.ca, {name: 'hk8-demo-2', address: '172.30.0.3'})
    const dir = mkdtempSync(join(tmpdir(), 'cms-k8s-pki-'))
    try {
      const file = (name: string, pem: string) => {
        const p = join(dir, name)
        writeFileSync(p, pem)
        return p
      }
      const ca = file('ca.crt', auth.ca.certificatePem)
      const etcdCa = file('etcd-ca.crt', auth.etcdCa.certificatePem)
      const ok = (caFile: string, purpose: string, pem: string, extra: string[] = []) =>
        execFileSync('openssl', ['verify', '-CAfile', caFile, '-purpose', purpose, ...extra, file(`c${Math.random()}.crt`, pem)], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim()
      expect(ok(ca, 'sslserver', certs.apiServer.certificatePem, ['-verify_ip', '10.96.0.1'])).toMatch(/: OK$/)
      expect(ok(ca, 'sslserver', certs.apiServer.certificatePem, ['-verify_hostname', 'kubernetes.default.svc'])).toMatch(/: OK$/)
      expect(ok(etcdCa, 'sslserver', certs.etcdServer.certificatePem, ['-verify_ip', '127.0.0.1'])).toMatch(/: OK$/)
      expect(ok(etcdCa, 'sslclient', certs.etcdServer.certificatePem)).toMatch(/: OK$/)
      for (const pem of [certs.admin, certs.apiServerKubeletClient, certs.controllerManager, certs.scheduler, certs.kubeProxy, node.client]) {
        expect(ok(ca, 'sslclient', pem.certificatePem)).toMatch(/: OK$/)
      }
      expect(ok(ca, 'sslserver', node.serving.certificatePem, ['-verify_ip', '172.30.0.3'])).toMatch(/: OK$/)
      // A client certificate is no server's; the cluster CA does not vouch for etcd's certificates.
      expect(() => ok(ca, 'sslserver', certs.admin.certificatePem)).toThrow(/verification failed|unsuitable/)
      expect(() => ok(ca, 'sslclient', certs.apiServerEtcdClient.certificatePem)).toThrow(/verification failed|issuer/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('node names', () => {
  it('accepts DNS-1123 names that fit a certificate and makes one from any host id', () => {
    expect(checkNodeName('cms-demo-1')).toBe('cms-demo-1')
    expect(checkNodeName('node.example.org')).toBe('node.example.org')
    for (const bad of ['', 'Node1', '-a', 'a-', 'a_b', 'a..b', 'x'.repeat(53)]) expect(() => checkNodeName(bad), bad).toThrow()
    expect(nodeNameFor('cms-Demo_1')).toBe('cms-demo-1')
    expect(nodeNameFor('10.0.0.7')).toBe('10.0.0.7')
    expect(nodeNameFor('root@host:22')).toBe('root-host-22')
    expect(nodeNameFor('--')).toBe('node')
    for (const id of ['a.-b', '.x.', 'A'.repeat(80), 'ü-ö', 'x--.--y']) expect(() => checkNodeName(nodeNameFor(id)), id).not.toThrow()
  })
})
