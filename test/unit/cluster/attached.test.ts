import {mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {listAccess, readAccess, writeAccess} from '../../../src/config/access.js'
import {listAttached, readAttached, writeAttached} from '../../../src/config/attached.js'
import {nodesAsHosts as kubernetesNodes} from '../../../src/engines/kubernetes/attached.js'
import {nomadAccess, nodesAsHosts as nomadNodes} from '../../../src/engines/nomad/attached.js'
import {localPaths} from '../../../src/config/paths.js'

const dir = mkdtempSync(join(tmpdir(), 'cms-attached-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('access files of attached clusters', () => {
  it('are 0600, and never taken for a cluster cms made (nor the other way round)', () => {
    const saved = process.env.CMS_HOME
    process.env.CMS_HOME = join(dir, 'home')
    try {
      writeAttached({name: 'prod', provider: 'attached', engine: 'nomad', nomad: {address: 'https://10.0.0.5:4646', token: 'secret'}})
      writeAccess({name: 'demo', provider: 'ssh', engine: 'spark', head: {host: '10.0.0.9', port: 22, user: 'cms'}})
      expect(statSync(localPaths.accessFile('prod')).mode & 0o777).toBe(0o600)
      expect(readAccess('prod')).toBeUndefined()
      expect(listAccess().map((a) => a.name)).toEqual(['demo'])
      expect(readAttached('prod')).toMatchObject({engine: 'nomad', nomad: {address: 'https://10.0.0.5:4646'}})
      expect(readAttached('demo')).toBeUndefined()
      expect(listAttached().map((a) => a.name)).toEqual(['prod'])
    } finally {
      process.env.CMS_HOME = saved
    }
  })
})

describe('attaching a Nomad cluster', () => {
  const file = (name: string) => {
    const path = join(dir, name)
    writeFileSync(path, 'pem')
    return path
  }

  it('takes the address and the nomad CLI\'s environment, TLS files by path', () => {
    const ca = file('ca.pem')
    const cert = file('cli.pem')
    const key = file('cli-key.pem')
    expect(nomadAccess('https://10.0.0.5:4646/', {NOMAD_TOKEN: 't', NOMAD_CACERT: ca, NOMAD_CLIENT_CERT: cert, NOMAD_CLIENT_KEY: key, NOMAD_TLS_SERVER_NAME: 'server.global.nomad'})).toEqual({
      address: 'https://10.0.0.5:4646',
      token: 't',
      caCert: ca,
      clientCert: cert,
      clientKey: key,
      tlsServerName: 'server.global.nomad',
    })
    expect(nomadAccess('http://127.0.0.1:4646', {})).toEqual({address: 'http://127.0.0.1:4646'})
  })

  it('refuses a bad address or missing files, naming them', () => {
    expect(() => nomadAccess('10.0.0.5:4646', {})).toThrow(/http or https URL|must be a URL/)
    expect(() => nomadAccess('https://10.0.0.5:4646/v1', {})).toThrow(/address only/)
    expect(() => nomadAccess('https://10.0.0.5:4646', {NOMAD_CACERT: join(dir, 'none.pem')})).toThrow(/NOMAD_CACERT not found/)
    expect(() => nomadAccess('https://10.0.0.5:4646', {NOMAD_CLIENT_CERT: file('only-cert.pem')})).toThrow(/go together/)
    expect(() => nomadAccess('http://10.0.0.5:4646', {NOMAD_CACERT: file('ca2.pem')})).toThrow(/https/)
  })

  it('takes client nodes for hosts, a server among them for a head', () => {
    const hosts = nomadNodes([{ID: 'a', Name: 'n1', Address: '10.0.0.5'}, {ID: 'b', Name: 'n2', Address: '10.0.0.6'}] as never, ['10.0.0.5:4647'])
    expect(hosts.map((h) => [h.id, h.role, h.privateAddress])).toEqual([
      ['n1', 'head', '10.0.0.5'],
      ['n2', 'worker', '10.0.0.6'],
    ])
  })
})

describe('attaching a Kubernetes cluster', () => {
  it('takes its nodes for hosts, control-plane nodes for heads', () => {
    const hosts = kubernetesNodes([
      {metadata: {name: 'cp', labels: {'node-role.kubernetes.io/control-plane': ''}}, status: {addresses: [{type: 'InternalIP', address: '10.1.0.2'}]}},
      {metadata: {name: 'w1', labels: {}}, status: {addresses: [{type: 'Hostname', address: 'w1'}, {type: 'InternalIP', address: '10.1.0.3'}]}},
    ])
    expect(hosts.map((h) => [h.id, h.role, h.privateAddress, h.state])).toEqual([
      ['cp', 'head', '10.1.0.2', 'running'],
      ['w1', 'worker', '10.1.0.3', 'running'],
    ])
  })
})
