import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {containerHostScript, describeContainerHost} from '../../../src/engines/kubernetes/container-host.js'
import {SHADOWED_SYSCTLS} from '../../../src/engines/kubernetes/node-container.js'

let dir = ''
afterEach(() => rmSync(dir, {recursive: true, force: true}))

/**
 * Runs the script against a stand-in machine under a temp folder (its /proc files plain files) with a fake `mount`
 * on PATH that logs its arguments and does what the real one would show: a bind mount copies the file over the
 * setting and adds the mount point to mountinfo; a cgroup mount adds the controller to /proc/mounts. `canMount`
 * false: every mount fails, as in an unprivileged container.
 */
function run(machine: {container: boolean; cgroup: string; mounted: string[]; canMount?: boolean}): {out: string; root: string; mounts: string[]} {
  dir = mkdtempSync(join(tmpdir(), 'cms-container-host-'))
  const root = join(dir, 'root')
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), {recursive: true})
    writeFileSync(join(root, path), text)
  }
  if (machine.container) write('/run/systemd/container', 'lxc\n')
  write('/proc/self/cgroup', machine.cgroup)
  write('/proc/mounts', machine.mounted.map((c) => `cgroup /sys/fs/cgroup/${c} cgroup rw,nosuid,${c} 0 0\n`).join(''))
  write('/proc/self/mountinfo', '64 1 0:1 / / rw shared:1 - ext4 /dev/vda rw\n')
  for (const s of SHADOWED_SYSCTLS) write(s.path, 'machine\n')
  mkdirSync(join(root, 'sys/fs/cgroup/cpu,cpuacct'), {recursive: true})
  symlinkSync('cpu,cpuacct', join(root, 'sys/fs/cgroup/cpu'))
  const bin = join(dir, 'bin')
  mkdirSync(bin)
  writeFileSync(
    join(bin, 'mount'),
    [
      '#!/bin/sh',
      `echo "$*" >> ${dir}/mounts`,
      machine.canMount === false ? 'exit 32' : '',
      `if [ "$1" = --bind ]; then cat "$2" > "$3"; echo "99 1 0:2 / $3 rw - tmpfs tmpfs rw" >> ${root}/proc/self/mountinfo; fi`,
      `if [ "$1" = -t ]; then echo "cgroup $6 cgroup rw,$4 0 0" >> ${root}/proc/mounts; fi`,
      'exit 0',
    ].join('\n'),
    {mode: 0o755},
  )
  const out = execFileSync('/bin/sh', ['-c', containerHostScript(SHADOWED_SYSCTLS, join(dir, 'shadow'), root)], {encoding: 'utf8', env: {PATH: `${bin}:/usr/bin:/bin`}})
  return {out, root, mounts: existsSync(join(dir, 'mounts')) ? readFileSync(join(dir, 'mounts'), 'utf8').trim().split('\n') : []}
}

const LXC_CGROUP = '4:memory:/\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n9:name=systemd:/\n0::/.lxc\n'

describe('a Kubernetes node that is a container', () => {
  it('on a machine or VM (not a container): nothing is mounted and nothing is reported', () => {
    const {out, mounts} = run({container: false, cgroup: LXC_CGROUP, mounted: ['memory', 'cpuset']})
    expect(out).toBe('')
    expect(mounts).toEqual([])
  })

  it('in a container: mounts shared, the controllers LXC left out mounted, every kubelet setting shadowed with its value', () => {
    const {out, root, mounts} = run({container: true, cgroup: LXC_CGROUP, mounted: ['memory', 'cpuset']})
    expect(out).toBe('')
    const cg = `${root}/sys/fs/cgroup`
    expect(mounts.slice(0, 5)).toEqual([
      `--make-rshared ${root}/`,
      `-o remount,rw ${cg}`,
      `-t cgroup -o cpuacct cgroup ${cg}/cpuacct`,
      `-t cgroup -o cpu cgroup ${cg}/cpu`,
      `-o remount,ro ${cg}`,
    ])
    // The symlink LXC's systemd made for a co-mounted cpu,cpuacct is replaced by the controller's own folder.
    expect(existsSync(`${cg}/cpu`) && !readFileSync(`${root}/proc/mounts`, 'utf8').includes('cpu,cpuacct')).toBe(true)
    expect(mounts.slice(5)).toEqual(SHADOWED_SYSCTLS.map((s) => `--bind ${dir}/shadow/${s.path.slice(10).replaceAll('/', '.')} ${root}${s.path}`))
    for (const s of SHADOWED_SYSCTLS) expect(readFileSync(`${root}${s.path}`, 'utf8').trim()).toBe(s.value)
    expect(describeContainerHost('h1', out)).toBeUndefined()
  })

  it('a second run changes nothing: what is shadowed or mounted is left as it is', () => {
    const first = run({container: true, cgroup: LXC_CGROUP, mounted: ['memory', 'cpuset', 'cpu', 'cpuacct']})
    expect(first.mounts.filter((m) => m.startsWith('-t') || m.includes('remount'))).toEqual([])
    const script = containerHostScript(SHADOWED_SYSCTLS, join(dir, 'shadow'), first.root)
    const again = execFileSync('/bin/sh', ['-c', script], {encoding: 'utf8', env: {PATH: `${dir}/bin:/usr/bin:/bin`}})
    expect(again).toBe('')
    const mounts = readFileSync(join(dir, 'mounts'), 'utf8').trim().split('\n')
    expect(mounts.filter((m) => m.startsWith('--bind'))).toHaveLength(SHADOWED_SYSCTLS.length)
  })

  it('a container that may not mount (unprivileged) reports each setting and controller, and the user gets one line', () => {
    const {out} = run({container: true, cgroup: LXC_CGROUP, mounted: ['memory', 'cpuset'], canMount: false})
    expect(out.trim().split('\n')).toEqual(['unmounted cpuacct', 'unmounted cpu', ...SHADOWED_SYSCTLS.map((s) => `unshadowed ${s.path}`)])
    const line = describeContainerHost('cms-k-2', out)!
    expect(line).toMatch(/^cms-k-2: is a container, and cms could not shadow \/proc\/sys\/vm\/overcommit_memory \(the kubelet would write the machine's own setting\), nor /)
    expect(line).toContain('nor mount its cpu cgroup controller: a Kubernetes node container must be allowed to mount')
    expect(line.split('\n')).toHaveLength(1)
  })

  it('refuses a setting that is not a plain /proc/sys path and value', () => {
    expect(() => containerHostScript([{path: '/proc/sys/vm/x; rm -rf /', value: '1'}])).toThrow('not a kernel setting')
    expect(() => containerHostScript([{path: '/proc/sys/vm/x', value: '1 2'}])).toThrow('not a kernel setting')
  })
})
