import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {UsageError} from '../../../src/remote/errors.js'
import {OpenStackApi, OpenStackError} from '../../../src/providers/openstack/client.js'
import type {OpenStackSettings} from '../../../src/providers/openstack/settings.js'

// A loopback stand-in for Keystone and one service, to check the client's own rules: the catalog's endpoint, one new
// token when a service says 401, and a refused credential told apart from everything else.
describe('the OpenStack client', () => {
  let server: Server
  let base = ''
  const tokens: string[] = []
  const password = 'right'

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/v3/auth/tokens') {
          const sent = JSON.parse(body) as {auth: {identity: {password: {user: {password: string}}}}}
          if (sent.auth.identity.password.user.password !== password) {
            res.writeHead(401, {'content-type': 'application/json'}).end('{"error": {"code": 401, "message": "The request you have made requires authentication."}}')
            return
          }
          const id = `t${tokens.length + 1}`
          tokens.push(id)
          const catalog = [{type: 'compute', endpoints: [{interface: 'public', region_id: 'R1', url: `${base}/compute/v2.1`}]}]
          res.writeHead(201, {'content-type': 'application/json', 'x-subject-token': id}).end(JSON.stringify({token: {catalog, project: {id: 'p'}}}))
          return
        }
        if (req.url === '/compute/v2.1/flavors/detail') {
          // The first token has "expired".
          if (req.headers['x-auth-token'] === 't1') res.writeHead(401).end('{"error": {"message": "expired"}}')
          else res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({flavors: [{id: 'f', name: 'm1', vcpus: 2, ram: 4096}], version: req.headers['openstack-api-version']}))
          return
        }
        res.writeHead(404).end('{"itemNotFound": {"message": "nothing here"}}')
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  const settings = (): OpenStackSettings => ({auth: {kind: 'password', authUrl: `${base}/v3`, userName: 'u', password, projectName: 'p'}, region: 'R1', interface: 'public'})

  it('finds the service in the catalog, sends the compute microversion, and gets one new token when the old one is refused', async () => {
    const api = new OpenStackApi(settings())
    try {
      const out = await api.get<{flavors: unknown[]; version: string}>('compute', '/flavors/detail')
      expect(out.flavors).toHaveLength(1)
      expect(out.version).toBe('compute 2.52')
      expect(tokens).toEqual(['t1', 't2'])
      expect(await api.call('compute', 'GET', '/servers/x', undefined, {allow404: true})).toBeUndefined()
      await expect(api.get('compute', '/servers/y')).rejects.toThrow('Nova GET /servers/y: HTTP 404: nothing here')
    } finally {
      await api.close()
    }
  })

  it('a refused credential is a usage error (exit 2); an unreachable cloud is not', async () => {
    const refused = new OpenStackApi({...settings(), auth: {kind: 'password', authUrl: `${base}/v3`, userName: 'u', password: 'x', projectName: 'p'}})
    const error = await refused.authenticate().catch((e: Error) => e)
    expect(error).toBeInstanceOf(UsageError)
    expect((error as Error).message).toBe(`Keystone refused the credentials of user u at ${base}/v3 (HTTP 401: The request you have made requires authentication.)`)
    await refused.close()
    const down = new OpenStackApi({...settings(), auth: {kind: 'password', authUrl: 'http://127.0.0.1:1/v3', userName: 'u', password: 'x', projectName: 'p'}})
    const unreachable = await down.authenticate().catch((e: Error) => e)
    expect(unreachable).toBeInstanceOf(OpenStackError)
    expect(unreachable).not.toBeInstanceOf(UsageError)
    expect((unreachable as Error).message).toContain('cannot reach http://127.0.0.1:1')
    await down.close()
  })
})
