import {createPrivateKey, X509Certificate} from 'node:crypto'
import {once} from 'node:events'
import {connect, createServer} from 'node:tls'
import type {AddressInfo} from 'node:net'
import {describe, expect, it} from 'vitest'
import {createCertificateAuthority, ipBytes, issueCertificate} from '../../../src/engines/nomad/pki.js'

const ca = createCertificateAuthority({commonName: 'cms test CA', organizations: ['cms'], validityDays: 3650})

describe('pki', () => {
  it('makes a self-signed CA that Node parses', () => {
    const cert = new X509Certificate(ca.certificatePem)
    expect(cert.ca).toBe(true)
    expect(cert.subject).toBe('O=cms\nCN=cms test CA')
    expect(cert.issuer).toBe(cert.subject)
    expect(cert.verify(cert.publicKey)).toBe(true)
    expect(cert.publicKey.asymmetricKeyType).toBe('ec')
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    expect(cert.checkPrivateKey(createPrivateKey(ca.privateKeyPem))).toBe(true)
    expect(ca.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000
    expect(Math.round(days)).toBe(3650)
  })

  it('issues a leaf with the SANs, usages and subject asked for, chained to the CA', () => {
    const leaf = issueCertificate(ca, {
      commonName: 'server.global.nomad',
      organizations: ['system:nodes', 'second'],
      dnsNames: ['server.global.nomad', 'localhost'],
      ipAddresses: ['127.0.0.1', '172.18.0.5', '::1', 'fd00::5', '::ffff:10.1.2.3'],
      keyUsages: ['digitalSignature', 'keyEncipherment'],
      extendedKeyUsages: ['serverAuth', 'clientAuth'],
      validityDays: 365,
    })
    const cert = new X509Certificate(leaf.certificatePem)
    const caCert = new X509Certificate(ca.certificatePem)
    expect(cert.ca).toBe(false)
    expect(cert.subject).toBe('O=system:nodes\nO=second\nCN=server.global.nomad')
    expect(cert.issuer).toBe(caCert.subject)
    expect(cert.checkIssued(caCert)).toBe(true)
    expect(cert.verify(caCert.publicKey)).toBe(true)
    expect(cert.verify(cert.publicKey)).toBe(false)
    expect(cert.subjectAltName).toBe(
      'DNS:server.global.nomad, DNS:localhost, IP Address:127.0.0.1, IP Address:172.18.0.5, IP Address:0:0:0:0:0:0:0:1, IP Address:FD00:0:0:0:0:0:0:5, IP Address:0:0:0:0:0:FFFF:A01:203',
    )
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'])
    expect(cert.checkHost('server.global.nomad')).toBe('server.global.nomad')
    expect(cert.checkIP('172.18.0.5')).toBe('172.18.0.5')
    expect(cert.checkHost('client.global.nomad')).toBeUndefined()
    expect(cert.checkPrivateKey(createPrivateKey(leaf.privateKeyPem))).toBe(true)
    // Every certificate gets its own key and serial.
    const again = new X509Certificate(
      issueCertificate(ca, {commonName: 'x', keyUsages: ['digitalSignature'], validityDays: 1}).certificatePem,
    )
    expect(again.serialNumber).not.toBe(cert.serialNumber)
    expect(again.publicKey.export({format: 'jwk'})).not.toEqual(cert.publicKey.export({format: 'jwk'}))
  })

  it('encodes validity past 2049 as GeneralizedTime and backdates notBefore by 5 minutes', () => {
    const now = new Date('2045-06-01T12:00:00.700Z')
    const leaf = issueCertificate(ca, {commonName: 'late', keyUsages: ['digitalSignature'], validityDays: 3650, now})
    const cert = new X509Certificate(leaf.certificatePem)
    expect(new Date(cert.validFrom).toISOString()).toBe('2045-06-01T11:55:00.000Z')
    expect(new Date(cert.validTo).toISOString()).toBe('2055-05-30T12:00:00.000Z')
  })

  it('chains for real: a TLS server and client with mutual authentication and hostname check', async () => {
    const server = issueCertificate(ca, {
      commonName: 'server.global.nomad',
      dnsNames: ['server.global.nomad', 'localhost'],
      ipAddresses: ['127.0.0.1'],
      keyUsages: ['digitalSignature', 'keyEncipherment'],
      extendedKeyUsages: ['serverAuth', 'clientAuth'],
      validityDays: 1,
    })
    const client = issueCertificate(ca, {
      commonName: 'cli.global.nomad',
      keyUsages: ['digitalSignature'],
      extendedKeyUsages: ['clientAuth'],
      validityDays: 1,
    })
    const otherCa = createCertificateAuthority({commonName: 'other CA', validityDays: 1})
    const stranger = issueCertificate(otherCa, {
      commonName: 'cli.global.nomad',
      keyUsages: ['digitalSignature'],
      extendedKeyUsages: ['clientAuth'],
      validityDays: 1,
    })
    const peers: string[] = []
    const srv = createServer(
      {cert: server.certificatePem, key: server.privateKeyPem, ca: ca.certificatePem, requestCert: true, rejectUnauthorized: true},
      (socket) => {
        peers.push(socket.getPeerCertificate().subject.CN as string)
        socket.end('hello')
      },
    )
    srv.listen(0, '127.0.0.1')
    await once(srv, 'listening')
    const port = (srv.address() as AddressInfo).port
    const talk = (keyPair: {certificatePem: string; privateKeyPem: string}, servername: string) =>
      new Promise<string>((resolve, reject) => {
        const s = connect({host: '127.0.0.1', port, servername, ca: ca.certificatePem, cert: keyPair.certificatePem, key: keyPair.privateKeyPem})
        let data = ''
        s.on('data', (d) => (data += d))
        s.on('end', () => resolve(data))
        s.on('error', reject)
      })
    try {
      expect(await talk(client, 'server.global.nomad')).toBe('hello')
      expect(peers).toEqual(['cli.global.nomad'])
      await expect(talk(client, 'client.global.nomad')).rejects.toThrow(/altnames|Hostname/i)
      // TLS 1.3: the server refuses the client certificate after the client's side of the handshake is done,
      // so the client sees an error or a closed connection, never the server's answer.
      const refused = await talk(stranger, 'server.global.nomad').catch((e: Error) => `error: ${e.message}`)
      expect(refused).not.toBe('hello')
      expect(peers).toEqual(['cli.global.nomad'])
    } finally {
      srv.close()
    }
  })

  it('refuses bad requests before signing anything', () => {
    const leaf = issueCertificate(ca, {commonName: 'leaf', keyUsages: ['digitalSignature'], validityDays: 1})
    expect(() => issueCertificate(leaf, {commonName: 'x', keyUsages: ['digitalSignature'], validityDays: 1})).toThrow(/not a CA/)
    expect(() =>
      issueCertificate({certificatePem: ca.certificatePem, privateKeyPem: leaf.privateKeyPem}, {commonName: 'x', keyUsages: ['digitalSignature'], validityDays: 1}),
    ).toThrow(/does not match/)
    expect(() => issueCertificate(ca, {commonName: 'x', keyUsages: [], validityDays: 1})).toThrow(/key usage/)
    expect(() => issueCertificate(ca, {commonName: 'x', keyUsages: ['keyCertSign'], validityDays: 1})).toThrow(/leaf/)
    expect(() => issueCertificate(ca, {commonName: '', keyUsages: ['digitalSignature'], validityDays: 1})).toThrow(/1-64/)
    expect(() => issueCertificate(ca, {commonName: 'x', keyUsages: ['digitalSignature'], validityDays: 0})).toThrow(/validity/)
    expect(() =>
      issueCertificate(ca, {commonName: 'x', dnsNames: ['bad name'], keyUsages: ['digitalSignature'], validityDays: 1}),
    ).toThrow(/DNS name/)
    expect(() =>
      issueCertificate(ca, {commonName: 'x', ipAddresses: ['300.1.1.1'], keyUsages: ['digitalSignature'], validityDays: 1}),
    ).toThrow(/IP address/)
  })

  it('converts IP addresses to their bytes', () => {
    expect(ipBytes('10.0.0.1').toString('hex')).toBe('0a000001')
    expect(ipBytes('::').toString('hex')).toBe('0'.repeat(32))
    expect(ipBytes('2001:db8::8:800:200c:417a').toString('hex')).toBe('20010db8000000000008080020 0c417a'.replace(' ', ''))
    expect(ipBytes('fe80::1%eth0').toString('hex')).toBe('fe800000000000000000000000000001')
    expect(ipBytes('1:2:3:4:5:6:7:8').toString('hex')).toBe('00010002000300040005000600070008')
    expect(ipBytes('::ffff:192.168.1.1').toString('hex')).toBe('00000000000000000000ffffc0a80101')
  })
})
