import {execFileSync, spawn} from 'node:child_process'
import {copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {shJoin} from '../../../src/remote/shell.js'
import {componentFiles, kubernetesLayout} from '../../../src/engines/kubernetes/layout.js'
import {cleanupScript, leftoverScript, startComponentScript, stopComponentsScript} from '../../../src/engines/kubernetes/scripts.js'

const sh = (script: string) => execFileSync('/bin/bash', ['-c', script], {encoding: 'utf8'})
/** alive or gone: a process that exited but was not reaped yet (a zombie, no command line) is gone. */
const liveness = (pid: string | number) => sh(`[ -n "$(tr -d '\\0' < /proc/${pid}/cmdline 2>/dev/null)" ] && echo alive || echo gone`).trim()

describe('Kubernetes component scripts in a real shell', () => {
  it('start a component once per configuration, restart it on a change, stop it', () => {
    const home = mkdtempSync(join(tmpdir(), "cms-k8s-it's-"))
    try {
      const l = kubernetesLayout(home, 'demo')
      // The layout's own folders, without /var/lib and /run (the real prepareDirsScript needs root for those).
      sh(`mkdir -p ${shJoin([l.dir, l.logDir, l.pidDir])}`)
      // A program named kubelet (a copy of bash) that prints its arguments and runs until TERM, like the real one.
      const fake = join(home, 'kubelet')
      copyFileSync('/bin/bash', fake)
      const body = 'echo "args: $*"; sleep 300 & c=$!; trap \'kill $c; exit 0\' TERM; wait'
      const argv = [fake, '-c', body, 'kubelet', '--config=/x y/kubelet.yaml', "--node-labels=a=b,c=it's"]
      expect(sh(startComponentScript(l, 'kubelet', argv, 'h1')).trim()).toBe('started')
      const pid1 = readFileSync(componentFiles(l, 'kubelet').pid, 'utf8').trim()
      expect(sh(startComponentScript(l, 'kubelet', argv, 'h1')).trim()).toBe('running')
      expect(sh(startComponentScript(l, 'kubelet', argv, 'h2')).trim()).toBe('restarted')
      const pid2 = readFileSync(componentFiles(l, 'kubelet').pid, 'utf8').trim()
      expect(pid2).not.toBe(pid1)
      expect(liveness(pid1)).toBe('gone')
      expect(readFileSync(componentFiles(l, 'kubelet').log, 'utf8')).toContain("args: --config=/x y/kubelet.yaml --node-labels=a=b,c=it's")
      sh(stopComponentsScript(l))
      expect(liveness(pid2)).toBe('gone')
      expect(existsSync(componentFiles(l, 'kubelet').pid)).toBe(false)
      expect(statSync(l.dir).isDirectory()).toBe(true)
    } finally {
      rmSync(home, {recursive: true, force: true})
    }
  })

  it('take a pid file naming another program (a host rebooted) as not running, and never stop that program', () => {
    const home = mkdtempSync(join(tmpdir(), 'cms-k8s-'))
    const other = spawn('sleep', ['300'], {detached: true, stdio: 'ignore'})
    try {
      const l = kubernetesLayout(home, 'demo')
      sh(`mkdir -p ${shJoin([l.dir, l.logDir, l.pidDir])}`)
      writeFileSync(componentFiles(l, 'kubelet').pid, `${other.pid}\n`)
      sh(stopComponentsScript(l, ['kubelet']))
      expect(liveness(other.pid!)).toBe('alive')
      writeFileSync(componentFiles(l, 'kubelet').pid, `${other.pid}\n`)
      const fake = join(home, 'kubelet')
      copyFileSync('/bin/bash', fake)
      const argv = [fake, '-c', 'sleep 300 & c=$!; trap \'kill $c; exit 0\' TERM; wait']
      expect(sh(startComponentScript(l, 'kubelet', argv, 'h1')).trim()).toBe('started')
      expect(liveness(other.pid!)).toBe('alive')
      sh(stopComponentsScript(l, ['kubelet']))
    } finally {
      other.kill('SIGKILL')
      rmSync(home, {recursive: true, force: true})
    }
  })

  it('report a component that exits at once, with its log', () => {
    const home = mkdtempSync(join(tmpdir(), 'cms-k8s-'))
    try {
      const l = kubernetesLayout(home, 'demo')
      sh(`mkdir -p ${shJoin([l.dir, l.logDir, l.pidDir])}`)
      const bad = join(home, 'etcd')
      writeFileSync(bad, '#!/bin/sh\necho "etcd: bad flag" >&2\nexit 1\n', {mode: 0o755})
      expect(() => execFileSync('/bin/bash', ['-c', startComponentScript(l, 'etcd', [bad], 'h1')], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})).toThrow(/etcd: bad flag/)
      expect(() => startComponentScript(l, 'etcd', ['etcd'], 'h1')).toThrow(/absolute/)
      expect(() => startComponentScript(l, 'etcd', [bad], 'h 1')).toThrow(/hash/)
      expect(() => startComponentScript(l, 'etcd', ['/usr/bin/env', 'etcd'], 'h1')).toThrow(/its own binary/)
    } finally {
      rmSync(home, {recursive: true, force: true})
    }
  })
})

describe('Kubernetes cleanup scripts', () => {
  const l = kubernetesLayout('/root', 'demo')

  it('are valid shell and never name the folders they scan for on their own command line', () => {
    const cleanup = cleanupScript(l, {home: '/root', binDir: '/root/.cms/dist/abc/bin'})
    const leftover = leftoverScript(l)
    for (const s of [cleanup, leftover]) execFileSync('bash', ['-n', '-c', s])
    // The scans match these prefixes in other processes' command lines; the script's own must not contain them.
    for (const prefix of ['/var/lib/cms/demo/', '/run/cms/demo/', '/root/.cms/clusters/demo/kubernetes/']) expect(leftover).not.toContain(prefix)
    expect(cleanup).not.toContain('/run/cms/demo/containerd/containerd.sock')
    expect(cleanup).toContain('/root/.cms/dist/abc/bin/kube-proxy --cleanup')
  })

  it('report nothing left on a host the cluster never touched', () => {
    const other = kubernetesLayout('/nonexistent-home', 'never-made')
    const counts = Object.fromEntries(
      execFileSync('bash', ['-c', leftoverScript(other, {bridge: 'cmsnever0'})], {encoding: 'utf8'})
        .trim()
        .split('\n')
        .map((line) => line.split(' ')),
    )
    expect(Object.keys(counts)).toEqual(['processes', 'mounts', 'netns', 'bridge', 'iptables', 'cgroups', 'folders', 'files'])
    for (const k of ['mounts', 'bridge', 'folders']) expect(counts[k], k).toBe('0')
    // Pods of Kubernetes nodes running in containers on this machine (an e2e cluster) show in its /proc too.
    const foreignPods = Number(execFileSync('bash', ['-c', 'grep -ls kubepods /proc/[0-9]*/cgroup 2>/dev/null | wc -l'], {encoding: 'utf8'}).trim())
    expect(Number(counts.processes)).toBeLessThanOrEqual(foreignPods)
  })
})
