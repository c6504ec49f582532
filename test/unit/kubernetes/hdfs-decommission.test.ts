import {execFileSync} from 'node:child_process'
import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {containerdId, excludeScript} from '../../../src/engines/kubernetes/hdfs-decommission.js'

describe('decommissioning a DataNode on Kubernetes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cms-hdfs-exclude-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))
  // A stand-in `ctr` that records how it was called.
  const calls = join(dir, 'calls')
  writeFileSync(join(dir, 'ctr'), `#!/bin/sh\necho "$*" >> ${calls}\n`)
  chmodSync(join(dir, 'ctr'), 0o755)
  const file = join(dir, 'dfs.exclude')
  const cid = 'a'.repeat(64)
  const run = (address?: string) =>
    execFileSync('sh', ['-c', excludeScript({excludeFile: file, address, socket: '/run/cms/k/containerd/containerd.sock', containerId: cid})], {env: {PATH: `${dir}:${process.env.PATH}`}, encoding: 'utf8'}).trim()
  const refreshes = () => {
    try {
      return readFileSync(calls, 'utf8').trim().split('\n')
    } catch {
      return []
    }
  }

  it('adds the address once and refreshes the NameNode only when the file changed; empties it', () => {
    expect(run('10.244.2.5')).toBe('changed')
    expect(readFileSync(file, 'utf8')).toBe('10.244.2.5\n')
    expect(refreshes()).toHaveLength(1)
    expect(refreshes()[0]).toMatch(new RegExp(`^--address /run/cms/k/containerd/containerd\\.sock -n k8s\\.io tasks exec --exec-id cms-refresh-\\d+ ${cid} hdfs dfsadmin -refreshNodes$`))
    expect(run('10.244.2.5')).toBe('unchanged')
    // 10.244.2.50 is not 10.244.2.5: whole lines only.
    expect(run('10.244.2.50')).toBe('changed')
    expect(readFileSync(file, 'utf8')).toBe('10.244.2.5\n10.244.2.50\n')
    expect(run()).toBe('changed')
    expect(readFileSync(file, 'utf8')).toBe('')
    expect(run()).toBe('unchanged')
    expect(refreshes()).toHaveLength(3)
  })

  it('refuses what is not an address or a container id; reads containerd ids from pod status', () => {
    expect(() => excludeScript({excludeFile: file, address: '10.0.0.1; rm -rf /', socket: '/s', containerId: cid})).toThrow(/IP address/)
    expect(() => excludeScript({excludeFile: file, address: '10.0.0.1', socket: '/s', containerId: 'x y'})).toThrow(/container id/)
    expect(containerdId(`containerd://${cid}`)).toBe(cid)
    expect(containerdId('docker://abc')).toBeUndefined()
    expect(containerdId(undefined)).toBeUndefined()
  })
})
