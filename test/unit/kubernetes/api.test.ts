import {createServer, type Server} from 'node:https'
import type {AddressInfo} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {KubeApi, KubeApiError} from '../../../src/engines/kubernetes/api.js'
import {certificateAccess} from '../../../src/engines/kubernetes/client.js'
import {createCertificateAuthority, issueCertificate} from '../../../src/engines/pki.js'

/**
 * KubeApi against a stand-in API server on loopback that, like kube-apiserver, requires a client certificate from the
 * cluster CA: what it sends (objects as written, apply content type, query), how it reads answers and errors.
 */
describe('KubeApi', () => {
  const ca = createCertificateAuthority({commonName: 'test-ca', validityDays: 1})
  const serving = issueCertificate(ca, {commonName: 'api', ipAddresses: ['127.0.0.1'], keyUsages: ['digitalSignature', 'keyEncipherment'], extendedKeyUsages: ['serverAuth'], validityDays: 1})
  const admin = issueCertificate(ca, {commonName: 'admin', organizations: ['system:masters'], keyUsages: ['digitalSignature', 'keyEncipherment'], extendedKeyUsages: ['clientAuth'], validityDays: 1})
  const seen: Array<{method: string; url: string; type?: string; body: string; user?: string}> = []
  let server: Server
  let api: KubeApi

  beforeAll(async () => {
    server = createServer({key: serving.privateKeyPem, cert: serving.certificatePem, ca: ca.certificatePem, requestCert: true, rejectUnauthorized: true}, (req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate()
        seen.push({method: req.method!, url: req.url!, type: req.headers['content-type'], body, user: peer.subject?.CN as string | undefined})
        const url = new URL(req.url!, 'https://x')
        const json = (status: number, value: unknown) => {
          res.writeHead(status, {'Content-Type': 'application/json'})
          res.end(JSON.stringify(value))
        }
        if (url.pathname === '/prefix/apis/batch/v1') return json(200, {resources: [{name: 'jobs', kind: 'Job', namespaced: true}, {name: 'jobs/status', kind: 'Job', namespaced: true}]})
        if (url.pathname === '/prefix/apis/example.com/v1') {
          res.writeHead(404, {'Content-Type': 'text/plain'})
          return res.end('404 page not found\n')
        }
        if (url.pathname === '/prefix/apis/batch/v1/namespaces/ns/jobs/ok') return json(200, JSON.parse(body || '{}'))
        if (url.pathname === '/prefix/apis/batch/v1/namespaces/ns/jobs/bad') {
          return json(422, {kind: 'Status', status: 'Failure', message: 'Job.batch "bad" is invalid: spec.backoffLimit: Invalid value: -1', reason: 'Invalid', details: {name: 'bad', kind: 'jobs'}, code: 422})
        }
        if (url.pathname === '/prefix/slow') return // never answers
        if (url.pathname === '/prefix/api/v1/namespaces/ns/pods/p/log') {
          if (url.searchParams.get('container') === 'waiting') return json(400, {kind: 'Status', message: 'container "waiting" in pod "p" is waiting to start: ContainerCreating', code: 400})
          res.writeHead(200, {'Content-Type': 'text/plain'})
          res.write('line 1\n')
          setTimeout(() => res.end('line 2\n'), 50)
          return
        }
        json(500, {message: 'unexpected'})
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const {port} = server.address() as AddressInfo
    api = new KubeApi(certificateAccess({server: `https://127.0.0.1:${port}/prefix`, caPem: ca.certificatePem, certPem: admin.certificatePem, keyPem: admin.privateKeyPem}))
  })

  afterAll(async () => {
    api.close()
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })

  it('sends objects exactly as written, as an apply patch with its query, with the client certificate', async () => {
    const object = {apiVersion: 'batch/v1', kind: 'Job', metadata: {name: 'ok', namespace: 'ns'}, spec: {backofLimit: 3, template: {}}}
    const stored = await api.request('PATCH', '/apis/batch/v1/namespaces/ns/jobs/ok', {query: {fieldManager: 'cms', force: true, dryRun: undefined}, body: object, contentType: 'application/apply-patch+yaml'})
    expect(stored).toEqual(object)
    const last = seen.at(-1)!
    expect(last).toMatchObject({method: 'PATCH', url: '/prefix/apis/batch/v1/namespaces/ns/jobs/ok?fieldManager=cms&force=true', type: 'application/apply-patch+yaml', user: 'admin'})
    // The field client-node's typed serializer would have dropped is on the wire.
    expect(JSON.parse(last.body).spec.backofLimit).toBe(3)
  })

  it("turns the API's Status into a KubeApiError, and a plain-text error into its first line", async () => {
    const error = (await api.request('PATCH', '/apis/batch/v1/namespaces/ns/jobs/bad', {body: {}}).catch((e: unknown) => e)) as KubeApiError
    expect(error).toBeInstanceOf(KubeApiError)
    expect(error).toMatchObject({status: 422, reason: 'Invalid', details: {name: 'bad', kind: 'jobs'}, apiMessage: 'Job.batch "bad" is invalid: spec.backoffLimit: Invalid value: -1'})
    await expect(api.request('GET', '/apis/example.com/v1')).rejects.toMatchObject({status: 404, apiMessage: '404 page not found'})
  })

  it('finds resources through discovery, once per apiVersion, and none for an apiVersion the API does not serve', async () => {
    const before = seen.filter((s) => s.url === '/prefix/apis/batch/v1').length
    expect(await api.resource('batch/v1', 'Job')).toEqual({name: 'jobs', kind: 'Job', namespaced: true})
    expect(await api.resource('batch/v1', 'CronJob')).toBeUndefined()
    expect(seen.filter((s) => s.url === '/prefix/apis/batch/v1').length).toBe(before + 1)
    expect(await api.resource('example.com/v1', 'Widget')).toBeUndefined()
    expect(KubeApi.path('batch/v1', {name: 'jobs', kind: 'Job', namespaced: true}, 'ns', 'a.b')).toBe('/apis/batch/v1/namespaces/ns/jobs/a.b')
    expect(KubeApi.path('v1', {name: 'namespaces', kind: 'Namespace', namespaced: false}, 'ignored', 'team')).toBe('/api/v1/namespaces/team')
  })

  it('gives up on a request with no answer within its timeout', async () => {
    await expect(api.request('GET', '/slow', {timeoutMs: 300})).rejects.toThrow('Kubernetes API GET /slow: no answer within 300 ms')
  })

  it('streams a log to its end, and reports a refused stream with the API message', async () => {
    const chunks: string[] = []
    await api.stream('/api/v1/namespaces/ns/pods/p/log', {container: 'main', follow: true}, (c) => chunks.push(c.toString()), new AbortController().signal)
    expect(chunks.join('')).toBe('line 1\nline 2\n')
    expect(seen.at(-1)!.url).toBe('/prefix/api/v1/namespaces/ns/pods/p/log?container=main&follow=true')
    await expect(api.stream('/api/v1/namespaces/ns/pods/p/log', {container: 'waiting'}, () => {}, new AbortController().signal)).rejects.toMatchObject({
      status: 400,
      apiMessage: 'container "waiting" in pod "p" is waiting to start: ContainerCreating',
    })
    // An aborted stream ends quietly.
    const abort = new AbortController()
    const pending = api.stream('/slow', {}, () => {}, abort.signal)
    setTimeout(() => abort.abort(), 100)
    await expect(pending).resolves.toBeUndefined()
  })
})
