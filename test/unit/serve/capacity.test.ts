import {describe, expect, it} from 'vitest'
import {parseJobSpec, type JobSpec} from '../../../src/jobs/spec.js'
import type {ClusterInfo} from '../../../src/output/results.js'
import {capacityOf, memoryMb, specDemand} from '../../../src/serve/queue/capacity.js'

const spec = (input: Record<string, unknown>): JobSpec => parseJobSpec(input, 'test')
const PY = 'https://example.com/apps/pi.py'
const JAR = 'https://example.com/apps/etl.jar'

describe('memoryMb', () => {
  it.each([
    ['512m', 512],
    ['512M', 512],
    ['2g', 2048],
    ['2G', 2048],
    ['1t', 1024 * 1024],
    ['1024k', 1],
    ['1500k', 2],
    ['1k', 1],
    ['100', 100],
    [' 3g ', 3072],
    ['0', 0],
  ])('%j -> %d MiB', (text, mb) => {
    expect(memoryMb(text, 7)).toBe(mb)
  })

  it.each([undefined, '', 'abc', '2gb', '1.5g', '-1g', '2 g', 'g'])('%j -> the fallback', (text) => {
    expect(memoryMb(text, 7)).toBe(7)
    expect(memoryMb(text, 1024)).toBe(1024)
  })
})

describe('specDemand', () => {
  it('a Python app on Spark: its driver runs in client mode off the cluster, only the executors count (1 core, 1 GiB default)', () => {
    expect(specDemand(spec({app: PY}), 'spark')).toEqual({cores: 1, memoryMb: 1024})
    expect(specDemand(spec({app: PY, executor: {instances: 3, cores: 2, memory: '2g'}, driver: {cores: 4, memory: '4g'}}), 'spark')).toEqual({cores: 6, memoryMb: 6144})
  })

  it('a Python app named by a URL with a query is still a Python app (no driver on the cluster)', () => {
    expect(specDemand(spec({app: `${PY}?token=abc`}), 'spark')).toEqual({cores: 1, memoryMb: 1024})
    expect(specDemand(spec({app: 'https://example.com/PI.PY'}), 'spark')).toEqual({cores: 1, memoryMb: 1024})
  })

  it('a JVM app on Spark runs its driver on a worker (cluster mode): the driver counts', () => {
    expect(specDemand(spec({app: JAR, mainClass: 'a.B'}), 'spark')).toEqual({cores: 2, memoryMb: 2048})
    expect(specDemand(spec({app: JAR, mainClass: 'a.B', executor: {instances: 2, cores: 2, memory: '512m'}, driver: {cores: 1, memory: '2g'}}), 'spark')).toEqual({cores: 5, memoryMb: 3072})
  })

  it('on nomad: the one local-mode task the translation makes (its cores and memory, 256 MiB overhead)', () => {
    expect(specDemand(spec({app: PY}), 'nomad')).toEqual({cores: 1, memoryMb: 1280})
    expect(specDemand(spec({app: PY, executor: {instances: 2, cores: 3, memory: '1g'}, driver: {cores: 2, memory: '512m'}}), 'nomad')).toEqual({cores: 6, memoryMb: 2816})
    expect(specDemand(spec({app: JAR, mainClass: 'a.B', driver: {memory: '3g'}}), 'nomad')).toEqual({cores: 1, memoryMb: 3328})
  })

  it('on kubernetes: the driver pod and the executor pods (2 by default), each with Spark\'s memory overhead', () => {
    expect(specDemand(spec({app: PY}), 'kubernetes')).toEqual({cores: 3, memoryMb: 3 * 1408})
    expect(specDemand(spec({app: PY, executor: {instances: 2, cores: 3, memory: '1g'}, driver: {cores: 2, memory: '512m'}}), 'kubernetes')).toEqual({cores: 8, memoryMb: 896 + 2 * 1408})
    expect(specDemand(spec({app: JAR, mainClass: 'a.B', driver: {memory: '3g'}}), 'kubernetes')).toEqual({cores: 3, memoryMb: 3456 + 2 * 1408})
  })

  it('on hadoop: the ApplicationMaster (the driver) and the executors (2 by default), each container rounded up to 256 MiB', () => {
    // 1g heap + 384 MiB overhead = 1408 MiB, rounded up to 1536.
    expect(specDemand(spec({app: PY}), 'hadoop')).toEqual({cores: 3, memoryMb: 3 * 1536})
    // 512m + 384 = 896 -> 1024; 4g + 410 = 4506 -> 4608.
    expect(specDemand(spec({app: JAR, mainClass: 'a.B', executor: {instances: 1, cores: 2, memory: '4g'}, driver: {cores: 2, memory: '512m'}}), 'hadoop')).toEqual({cores: 4, memoryMb: 1024 + 4608})
  })

  it('executors: instances x cores, memory per executor', () => {
    expect(specDemand(spec({app: PY, executor: {instances: 4}}), 'spark')).toEqual({cores: 4, memoryMb: 4096})
    expect(specDemand(spec({app: PY, executor: {cores: 3, memory: '256m'}}), 'spark')).toEqual({cores: 3, memoryMb: 256})
  })

  it('spark.cores.max wins over instances x cores; executors are its cores over each one\'s, rounded up', () => {
    expect(specDemand(spec({app: PY, conf: {'spark.cores.max': '6'}, executor: {instances: 10, cores: 2, memory: '1g'}}), 'spark')).toEqual({cores: 6, memoryMb: 3072})
    expect(specDemand(spec({app: PY, conf: {'spark.cores.max': 5}, executor: {cores: 2, memory: '1g'}}), 'spark')).toEqual({cores: 5, memoryMb: 3072})
    expect(specDemand(spec({app: JAR, mainClass: 'a.B', conf: {'spark.cores.max': '3'}}), 'spark')).toEqual({cores: 4, memoryMb: 4096})
  })

  it('a spark.cores.max that is not a positive number is ignored', () => {
    for (const v of ['abc', '0', '-2']) expect(specDemand(spec({app: PY, conf: {'spark.cores.max': v}, executor: {instances: 2}}), 'spark')).toEqual({cores: 2, memoryMb: 2048})
  })
})

describe('capacityOf', () => {
  const base = {name: 'c1', provider: 'docker', health: 'healthy' as const, hosts: []}

  it('Spark: the master\'s totals and what it says is used', () => {
    const info: ClusterInfo = {
      ...base,
      engine: 'spark',
      master: {url: 'spark://10.0.0.2:7077', restUrl: 'http://10.0.0.2:6066', webUiUrl: 'http://10.0.0.2:8080', status: 'ALIVE', aliveWorkers: 2, cores: 8, coresUsed: 3, memoryMb: 16384, memoryUsedMb: 2048, activeApps: [], completedApps: 0},
    }
    expect(capacityOf(info)).toEqual({cores: 8, memoryMb: 16384, usedCores: 3, usedMemoryMb: 2048})
  })

  it('Nomad: totals only (used 0)', () => {
    const info: ClusterInfo = {...base, engine: 'nomad', nomad: {apiUrl: 'http://10.0.0.2:4646', leader: '10.0.0.2:4647', servers: ['10.0.0.2:4647'], readyNodes: 3, cpuCores: 6, memoryMb: 12000}}
    expect(capacityOf(info)).toEqual({cores: 6, memoryMb: 12000, usedCores: 0, usedMemoryMb: 0})
  })

  it('Kubernetes: totals only (used 0)', () => {
    const info: ClusterInfo = {...base, engine: 'kubernetes', kubernetes: {apiUrl: 'https://10.0.0.2:6443', ready: true, version: 'v1.33.0', readyNodes: 2, cpuCores: 4, memoryMb: 7800}}
    expect(capacityOf(info)).toEqual({cores: 4, memoryMb: 7800, usedCores: 0, usedMemoryMb: 0})
  })

  it('Hadoop: the ResourceManager\'s totals and what it says is used', () => {
    const info: ClusterInfo = {...base, engine: 'hadoop', yarn: {resourceManagerUrl: 'http://10.0.0.2:8088', state: 'STARTED', runningNodeManagers: 2, memoryMb: 6144, memoryUsedMb: 1536, vcores: 4, vcoresUsed: 1, runningApps: 1, pendingApps: 0}}
    expect(capacityOf(info)).toEqual({cores: 4, memoryMb: 6144, usedCores: 1, usedMemoryMb: 1536})
  })

  it('no figures (a master or ResourceManager that could not be asked): undefined', () => {
    expect(capacityOf({...base, engine: 'spark', health: 'down', masterError: 'connection refused'})).toBeUndefined()
    expect(capacityOf({...base, engine: 'hadoop', health: 'down'})).toBeUndefined()
  })
})
