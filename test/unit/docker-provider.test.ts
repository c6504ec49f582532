import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {containerName, hostFromContainer, hostImageTag, networkName, summarizeContainers, variantImageTag} from '../../src/providers/docker/provider.js'
import type {ContainerSummary} from '../../src/providers/docker/api.js'

const container = (cluster: string, index: number, role: string, state: string, ip: string): ContainerSummary => ({
  Id: `id${index}`,
  Names: [`/cms-${cluster}-${index}`],
  State: state,
  Labels: {'cms.cluster': cluster, 'cms.role': role, 'cms.engine': 'spark', 'cms.index': String(index)},
  NetworkSettings: {Networks: {[`cms-${cluster}`]: {IPAddress: ip}}},
})

describe('docker provider: hosts from labels', () => {
  it('names containers and networks after the cluster', () => {
    expect(containerName('demo', 3)).toBe('cms-demo-3')
    expect(networkName('demo')).toBe('cms-demo')
  })

  it('turns a labelled container into a host reached over SSH at its network address', () => {
    const host = hostFromContainer(container('demo', 1, 'head', 'running', '172.20.0.2'), 'demo')
    expect(host).toMatchObject({id: 'cms-demo-1', role: 'head', privateAddress: '172.20.0.2', state: 'running'})
    expect(host.target).toMatchObject({host: '172.20.0.2', port: 22, user: 'root'})
    expect(hostFromContainer(container('demo', 2, 'worker', 'exited', ''), 'demo').state).toBe('stopped')
  })

  it('summarizes clusters with running counts and the head address', () => {
    const list = summarizeContainers([
      container('a', 1, 'head', 'running', '10.0.0.2'),
      container('a', 2, 'worker', 'exited', '10.0.0.3'),
      container('b', 1, 'head', 'running', '10.1.0.2'),
    ])
    expect(list).toEqual([
      {name: 'a', provider: 'docker', engine: 'spark', hosts: 2, runningHosts: 1, head: '10.0.0.2'},
      {name: 'b', provider: 'docker', engine: 'spark', hosts: 1, runningHosts: 1, head: '10.1.0.2'},
    ])
  })

  it('tags the host image by the content of its folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-img-'))
    writeFileSync(join(dir, 'Dockerfile'), 'FROM debian:bookworm-slim\n')
    const first = hostImageTag(dir)
    expect(first).toMatch(/^cms-host:[0-9a-f]{12}$/)
    expect(hostImageTag(dir)).toBe(first)
    writeFileSync(join(dir, 'Dockerfile'), 'FROM debian:bookworm-slim\nRUN true\n')
    expect(hostImageTag(dir)).not.toBe(first)
  })

  it('tags an image variant by its folder and the host image it is built from', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-variant-'))
    writeFileSync(join(dir, 'Dockerfile'), 'ARG HOST_IMAGE\nFROM ${HOST_IMAGE}\n')
    const first = variantImageTag('k8s-host', 'cms-host:aaaaaaaaaaaa', dir)
    expect(first).toMatch(/^cms-k8s-host:[0-9a-f]{12}$/)
    expect(variantImageTag('k8s-host', 'cms-host:aaaaaaaaaaaa', dir)).toBe(first)
    expect(variantImageTag('k8s-host', 'cms-host:bbbbbbbbbbbb', dir)).not.toBe(first)
    writeFileSync(join(dir, 'entrypoint.sh'), '#!/bin/sh\n')
    expect(variantImageTag('k8s-host', 'cms-host:aaaaaaaaaaaa', dir)).not.toBe(first)
    expect(() => variantImageTag('../x', 'cms-host:aaaaaaaaaaaa', dir)).toThrow(/variant/)
  })
})
