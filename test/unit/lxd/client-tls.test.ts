import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer as createUnixServer} from 'node:net'
import {createServer, type Server} from 'node:https'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import type {TLSSocket} from 'node:tls'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {certificateFingerprint, LxdApi} from '../../../src/providers/lxd/client.js'

/** A self-signed certificate and key made by openssl, as LXD makes its server and client certificates. */
function selfSigned(dir: string, name: string): {cert: string; key: string} {
  const cert = join(dir, `${name}.crt`)
  const key = join(dir, `${name}.key`)
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', key, '-out', cert], {stdio: 'ignore'})
  return {cert, key}
}

// An HTTPS server on loopback that plays an LXD remote: it asks for a client certificate and trusts only cms's.
describe('the LXD client over HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cms-lxd-tls-'))
  const server = selfSigned(dir, 'lxd-server')
  const other = selfSigned(dir, 'other-server')
  const client = selfSigned(dir, 'cms-client')
  let https: Server
  let url = ''
  const seenClients: string[] = []

  beforeAll(async () => {
    https = createServer({cert: readFileSync(server.cert), key: readFileSync(server.key), requestCert: true, rejectUnauthorized: true, ca: readFileSync(client.cert)}, (req, res) => {
      seenClients.push((req.socket as TLSSocket).getPeerCertificate().subject.CN)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({type: 'sync', status_code: 200, metadata: {api_version: '1.0', path: req.url}}))
    })
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve))
    url = `https://127.0.0.1:${(https.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => https.close(resolve))
    rmSync(dir, {recursive: true, force: true})
  })

  it('presents the client certificate and trusts the pinned server certificate, whatever its name', async () => {
    const api = new LxdApi({kind: 'remote', url, clientCert: client.cert, clientKey: client.key, serverCert: server.cert})
    try {
      expect(await api.get('/1.0')).toEqual({api_version: '1.0', path: '/1.0'})
      expect(seenClients).toEqual(['cms-client'])
    } finally {
      await api.close()
    }
  })

  it('refuses a server whose certificate is not the one trusted', async () => {
    const api = new LxdApi({kind: 'remote', url, clientCert: client.cert, clientKey: client.key, serverCert: other.cert})
    try {
      await expect(api.get('/1.0')).rejects.toThrow(`cannot reach the LXD daemon at ${url}`)
      expect(seenClients).toHaveLength(1)
    } finally {
      await api.close()
    }
  })

  it('is refused by the server without a client certificate it trusts', async () => {
    const api = new LxdApi({kind: 'remote', url, clientCert: other.cert, clientKey: other.key, serverCert: server.cert})
    try {
      await expect(api.get('/1.0')).rejects.toThrow('cannot reach the LXD daemon')
      expect(seenClients).toHaveLength(1)
    } finally {
      await api.close()
    }
  })

  it('fingerprints a certificate as Node reports a peer\'s', () => {
    expect(certificateFingerprint(readFileSync(server.cert, 'utf8'))).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    expect(certificateFingerprint(readFileSync(server.cert, 'utf8'))).not.toBe(certificateFingerprint(readFileSync(other.cert, 'utf8')))
  })
})

describe('the LXD client over a unix socket', () => {
  it('a daemon that accepts but never answers is given up on within the request timeout, named', async () => {
    const socket = join(mkdtempSync(join(tmpdir(), 'cms-lxd-sock-')), 'unix.socket')
    const silent = createUnixServer(() => {})
    await new Promise<void>((resolve) => silent.listen(socket, resolve))
    const api = new LxdApi({kind: 'socket', socket}, {requestTimeoutMs: 500})
    try {
      const started = Date.now()
      await expect(api.get('/1.0')).rejects.toThrow(`cannot reach the LXD daemon at ${socket}`)
      expect(Date.now() - started).toBeLessThan(5_000)
    } finally {
      await api.close()
      silent.close()
      rmSync(dirname(socket), {recursive: true, force: true})
    }
  })
})
