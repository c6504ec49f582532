import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {describeKernelSettings, kernelSettingsScript, NODE_KERNEL_SETTINGS} from '../../../src/engines/kubernetes/kernel-settings.js'

let dir = ''
afterEach(() => rmSync(dir, {recursive: true, force: true}))

/**
 * Runs the script against a /proc/sys of plain files under a temp folder, with a fake `modprobe` on PATH that logs
 * its argument and, for br_netfilter when `loadable`, makes the bridge settings appear (as the module does).
 */
function run(files: Record<string, string>, opts: {loadable: boolean}): {out: string; sys: string; loaded: string} {
  dir = mkdtempSync(join(tmpdir(), 'cms-kernel-'))
  const sys = join(dir, 'sys')
  for (const [key, value] of Object.entries(files)) {
    const path = join(sys, ...key.split('.'))
    mkdirSync(join(path, '..'), {recursive: true})
    writeFileSync(path, `${value}\n`)
  }
  const bin = join(dir, 'bin')
  mkdirSync(bin)
  const appear = opts.loadable ? `mkdir -p ${sys}/net/bridge; echo 0 > ${sys}/net/bridge/bridge-nf-call-iptables` : 'exit 1'
  writeFileSync(join(bin, 'modprobe'), `#!/bin/sh\necho "$1" >> ${dir}/loaded\n[ "$1" = br_netfilter ] || exit 1\n${appear}\n`, {mode: 0o755})
  const out = execFileSync('/bin/bash', ['-c', kernelSettingsScript(NODE_KERNEL_SETTINGS, sys)], {encoding: 'utf8', env: {PATH: `${bin}:/usr/bin:/bin`}})
  return {out, sys, loaded: existsSync(join(dir, 'loaded')) ? readFileSync(join(dir, 'loaded'), 'utf8') : ''}
}

const read = (sys: string, key: string) => readFileSync(join(sys, ...key.split('.')), 'utf8').trim()

describe('the kernel settings of a Kubernetes node', () => {
  it('sets what differs and loads nothing when the settings are there', () => {
    const {out, sys, loaded} = run({'net.bridge.bridge-nf-call-iptables': '0', 'net.ipv4.ip_forward': '0'}, {loadable: true})
    expect(out).toBe('')
    expect(read(sys, 'net.bridge.bridge-nf-call-iptables')).toBe('1')
    expect(read(sys, 'net.ipv4.ip_forward')).toBe('1')
    expect(loaded).toBe('')
    expect(describeKernelSettings('h1', out)).toBeUndefined()
  })

  it('loads br_netfilter when the bridge settings are missing, then sets them', () => {
    const {out, sys, loaded} = run({'net.ipv4.ip_forward': '1'}, {loadable: true})
    expect(out).toBe('')
    expect(loaded).toBe('br_netfilter\n')
    expect(read(sys, 'net.bridge.bridge-nf-call-iptables')).toBe('1')
  })

  it('names the module to load when it cannot be loaded (a container), and a setting that will not take its value', () => {
    const {out, sys} = run({'net.ipv4.ip_forward': '0'}, {loadable: false})
    expect(out).toBe('missing net.bridge.bridge-nf-call-iptables br_netfilter\n')
    expect(read(sys, 'net.ipv4.ip_forward')).toBe('1')
    expect(describeKernelSettings('h1', out)).toBe(
      "h1: Kubernetes' pod network needs kernel settings: its kernel has no net.bridge.bridge-nf-call-iptables: load the br_netfilter module there (modprobe br_netfilter; for a container, on the machine that runs it)",
    )
    expect(describeKernelSettings('h1', 'unset net.ipv4.ip_forward\n')).toBe("h1: Kubernetes' pod network needs kernel settings: net.ipv4.ip_forward could not be set to 1 (set it there: sysctl -w net.ipv4.ip_forward=1)")
  })

  it('reports a setting it cannot write as unset', () => {
    dir = mkdtempSync(join(tmpdir(), 'cms-kernel-'))
    const sys = join(dir, 'sys')
    // A folder where the setting's file would be: no one writes it, not even root.
    mkdirSync(join(sys, 'net', 'ipv4', 'ip_forward'), {recursive: true})
    const out = execFileSync('/bin/bash', ['-c', kernelSettingsScript([{key: 'net.ipv4.ip_forward', value: '1'}], sys)], {encoding: 'utf8'})
    expect(out).toBe('unset net.ipv4.ip_forward\n')
  })

  it('refuses a key or module that is not one', () => {
    expect(() => kernelSettingsScript([{key: 'net.ipv4.ip_forward; rm -rf /', value: '1'}])).toThrow(/not a kernel setting/)
    expect(() => kernelSettingsScript([{key: 'net.ipv4.ip_forward', value: '1 2'}])).toThrow(/not a kernel setting/)
  })
})
