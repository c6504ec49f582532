import {describe, expect, it} from 'vitest'
import {validateClusterName, validateHostCount} from '../../src/cluster/names.js'
import {clusterInfo} from '../../src/engines/spark/describe.js'
import {matchHosts} from '../../src/cluster/remove.js'
import {archiveExtension, distFromSettings, distSettings, versionFromName} from '../../src/engines/spark/dist.js'
import {settingsFromRecord, settingsToRecord} from '../../src/engines/spark/engine.js'
import type {MasterStatus} from '../../src/engines/spark/master-api.js'
import {renderClusterInfo, renderClusterList} from '../../src/output/render.js'
import {table} from '../../src/output/table.js'
import type {Host} from '../../src/providers/provider.js'
import {UsageError} from '../../src/remote/errors.js'

const host = (id: string, role: Host['role'], ip: string): Host => ({
  id,
  role,
  target: {host: ip, port: 22, user: 'root', identityFiles: []},
  privateAddress: ip,
  state: 'running',
})

const hosts = [host('cms-demo-1', 'head', '172.18.0.2'), host('cms-demo-2', 'worker', '172.18.0.3'), host('cms-demo-3', 'worker', '172.18.0.4')]

const worker = (ip: string, state: string) => ({id: `worker-${ip}`, host: ip, port: 40000, webuiaddress: '', cores: 2, coresused: 0, memory: 1024, memoryused: 0, state, lastheartbeat: 0})

const status: MasterStatus = {
  url: 'spark://172.18.0.2:7077',
  status: 'ALIVE',
  aliveworkers: 2,
  cores: 4,
  coresused: 0,
  memory: 2048,
  memoryused: 0,
  workers: [worker('172.18.0.2', 'ALIVE'), worker('172.18.0.3', 'DEAD'), worker('172.18.0.3', 'ALIVE')],
  activeapps: [],
  completedapps: [],
}

describe('cluster names', () => {
  it.each(['demo', 'a1', 'spark-prod-2', 'ab'])('accepts %s', (n) => expect(validateClusterName(n)).toBe(n))
  it.each(['', 'a', 'Demo', '1abc', 'a;b', '$(id)', '../x', 'a--b', 'trailing-', 'a b', 'x'.repeat(33), 'ünï'])('rejects %j', (n) => {
    expect(() => validateClusterName(n)).toThrow(UsageError)
  })
  it('bounds host counts', () => {
    expect(validateHostCount(8)).toBe(8)
    for (const n of [0, -1, 1.5, 65, Number.NaN]) expect(() => validateHostCount(n)).toThrow(UsageError)
  })
})

describe('cluster info from provider and master', () => {
  it('joins hosts with the master workers by private address; an alive entry wins over a dead one', () => {
    const info = clusterInfo('demo', 'docker', hosts, status, '172.18.0.2')
    expect(info.hosts.map((h) => h.worker?.state)).toEqual(['ALIVE', 'ALIVE', undefined])
    expect(info.health).toBe('degraded')
    expect(info.master).toMatchObject({restUrl: 'http://172.18.0.2:6066', aliveWorkers: 2})
  })

  it('is down when the master cannot be reached', () => {
    const info = clusterInfo('demo', 'docker', hosts, undefined, undefined, 'connection refused')
    expect(info.health).toBe('down')
    expect(renderClusterInfo(info)).toContain('unreachable: connection refused')
  })

  it('keeps the documented JSON shape', () => {
    const info = clusterInfo('demo', 'docker', hosts.slice(0, 2), {...status, workers: [worker('172.18.0.2', 'ALIVE'), worker('172.18.0.3', 'ALIVE')]}, '172.18.0.2')
    expect(Object.keys(info).sort()).toEqual(['engine', 'head', 'health', 'hosts', 'master', 'masterError', 'name', 'provider'])
    expect(Object.keys(info.hosts[0]).sort()).toEqual(['address', 'id', 'privateAddress', 'role', 'state', 'worker'])
    expect(info.health).toBe('healthy')
  })
})

describe('host matching for remove', () => {
  it('matches by id, address and user@host:port', () => {
    expect(matchHosts(hosts, ['cms-demo-2', '172.18.0.4']).map((h) => h.id)).toEqual(['cms-demo-2', 'cms-demo-3'])
    expect(matchHosts(hosts, ['root@172.18.0.3:22'])[0].id).toBe('cms-demo-2')
  })
  it('refuses the head, unknown hosts and an empty list', () => {
    expect(() => matchHosts(hosts, ['cms-demo-1'])).toThrow(/cannot remove the head/)
    expect(() => matchHosts(hosts, ['nope'])).toThrow(/not in the cluster/)
    expect(() => matchHosts(hosts, [])).toThrow(UsageError)
  })
})

describe('distribution naming and settings', () => {
  it('recognizes archives and versions', () => {
    expect(archiveExtension('spark-4.0.1-bin-hadoop3.tgz')).toBe('.tgz')
    expect(archiveExtension('x.tar.gz')).toBe('.tgz')
    expect(archiveExtension('x.tar')).toBe('.tar')
    expect(() => archiveExtension('x.zip')).toThrow(UsageError)
    expect(versionFromName('/c/spark-4.0.1-bin-hadoop3.tgz')).toBe('4.0.1')
    expect(versionFromName('/c/spark-4.0.1-bin-pypi.tgz')).toBe('4.0.1')
  })
  it('round-trips through the manifest', () => {
    const dist = {path: '/x.tgz', id: 'abcd', bytes: 10, archiveExt: '.tgz' as const, version: '4.0.1'}
    expect(distFromSettings(distSettings(dist))).toEqual({id: 'abcd', bytes: 10, archiveExt: '.tgz', version: '4.0.1'})
    expect(distFromSettings({})).toBeUndefined()
    const settings = settingsFromRecord(settingsToRecord({daemonMemory: '1g', workerCores: 2, readyTimeoutMs: 1}))
    expect(settings).toMatchObject({daemonMemory: '1g', workerCores: 2, workerMemory: undefined})
  })
})

describe('tables', () => {
  it('aligns columns and fills gaps', () => {
    expect(table(['A', 'BB'], [['xxx', undefined], ['y', 2]])).toBe('A     BB\nxxx   -\ny     2')
    expect(renderClusterList({clusters: []})).toBe('No clusters.')
  })
})
