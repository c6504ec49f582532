import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {describeMissing, parsePrerequisites, PREREQUISITES, prerequisitesScript} from '../../../src/engines/kubernetes/prerequisites.js'

const bin = mkdtempSync(join(tmpdir(), 'cms-prereq-'))
afterAll(() => rmSync(bin, {recursive: true, force: true}))

/** Runs the check with PATH holding only `commands` (fakes); absolute paths are the machine's own. */
function check(commands: string[], head: boolean) {
  for (const c of commands) writeFileSync(join(bin, c), '#!/bin/sh\n', {mode: 0o755})
  const out = execFileSync('/bin/bash', ['-c', prerequisitesScript({head})], {encoding: 'utf8', env: {PATH: bin}})
  return parsePrerequisites(out)
}

const foundByPath = (p: (typeof PREREQUISITES)[number], commands: string[]) => p.anyOf.some((a) => (a.includes('/') ? existsSync(a) : commands.includes(a)))

describe('host prerequisites', () => {
  it('names exactly what is missing, with its Debian package, and the CNI folder', () => {
    const none = check([], true)
    const expectedMissing = PREREQUISITES.filter((p) => !foundByPath(p, [])).map((p) => `${p.name} (Debian package ${p.debianPackage})`)
    expect(none.missing).toEqual(expectedMissing)
    expect(none.missing).toContain('containerd (Debian package containerd)')
    expect(none.missing).toContain('ctr (Debian package containerd)')
    expect(none.cniBinDir).toBe(existsSync('/usr/lib/cni/bridge') ? '/usr/lib/cni' : existsSync('/opt/cni/bin/bridge') ? '/opt/cni/bin' : undefined)
  })

  it('finds commands on PATH, and asks for etcd on the head only', () => {
    const commands = ['containerd', 'ctr', 'runc', 'iptables', 'ip', 'etcd']
    const head = check(commands, true)
    expect(head.missing).toEqual(PREREQUISITES.filter((p) => !foundByPath(p, commands)).map((p) => `${p.name} (Debian package ${p.debianPackage})`))
    expect(head.missing.some((m) => m.startsWith('containerd') || m.startsWith('runc') || m.startsWith('etcd'))).toBe(false)
    const worker = check([], false)
    expect(worker.missing.some((m) => m.startsWith('etcd'))).toBe(false)
  })

  it('reports a login that is not root, and says in one line to log in as root', () => {
    // PATH holds no `id` here: a shell that cannot tell it runs as root is not taken for root.
    expect(check([], true).notRoot).toBeDefined()
    const asRoot = execFileSync('/bin/bash', ['-c', `id() { [ "$1" = -u ] && echo 0 || echo root; }\n${prerequisitesScript({head: true})}`], {encoding: 'utf8', env: {PATH: bin}})
    expect(parsePrerequisites(asRoot).notRoot).toBeUndefined()
    const asAdmin = execFileSync('/bin/bash', ['-c', `id() { [ "$1" = -u ] && echo 1000 || echo admin; }\n${prerequisitesScript({head: true})}`], {encoding: 'utf8', env: {PATH: bin}})
    expect(parsePrerequisites(asAdmin).notRoot).toBe('admin')
    expect(describeMissing('i-0abc', {notRoot: 'admin', missing: ['etcd (Debian package etcd-server)']})).toBe(
      'i-0abc: Kubernetes runs containerd, the kubelet and kube-proxy as root, but cms logs in as admin there: log in as root (root@HOST, or --ssh-user root)',
    )
  })

  it('says in one line what to install', () => {
    expect(describeMissing('10.0.0.5', {missing: []})).toBeUndefined()
    expect(
      describeMissing('10.0.0.5', {missing: ['containerd (Debian package containerd)', 'ctr (Debian package containerd)', 'CNI bridge plugin (Debian package containernetworking-plugins)']}),
    ).toBe('10.0.0.5 lacks containerd, ctr, CNI bridge plugin: install containerd containernetworking-plugins (Debian/Ubuntu packages)')
  })
})
