import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {NODE_CONTAINER, SHADOWED_SYSCTLS, kubernetesContainerNeeds, nodeContainerCreateOptions, nodeContainerRunArgs} from '../../../src/engines/kubernetes/node-container.js'
import {containerNeedsOptions} from '../../../src/providers/docker/provider.js'

const entrypoint = readFileSync(new URL('../../../images/k8s-host/k8s-entrypoint.sh', import.meta.url), 'utf8')

describe('Kubernetes node containers', () => {
  it('are never privileged: every capability but SYS_RESOURCE, unconfined filters, a private cgroup namespace', () => {
    const args = nodeContainerRunArgs()
    expect(args).not.toContain('--privileged')
    expect(args).toEqual([
      '--cap-add=ALL',
      '--cap-drop=SYS_RESOURCE',
      '--security-opt=seccomp=unconfined',
      '--security-opt=apparmor=unconfined',
      '--security-opt=systempaths=unconfined',
      '--device=/dev/kmsg',
      '--device-cgroup-rule=a *:* rwm',
      '--cgroupns=private',
      '--init',
      '--tmpfs=/run:rw,nosuid,nodev,mode=0755',
      '--tmpfs=/tmp:rw,nosuid,nodev,mode=1777',
      '--volume=/var',
    ])
    const api = nodeContainerCreateOptions()
    expect(api.Volumes).toEqual({'/var': {}})
    expect(api.HostConfig).toMatchObject({CapAdd: ['ALL'], CapDrop: ['SYS_RESOURCE'], CgroupnsMode: 'private', Init: true})
    expect(api.HostConfig.Devices).toEqual([{PathOnHost: '/dev/kmsg', PathInContainer: '/dev/kmsg', CgroupPermissions: 'rwm'}])
    expect(api.HostConfig).not.toHaveProperty('Privileged')
    expect(NODE_CONTAINER.capDrop).toContain('SYS_RESOURCE')
  })

  it('get the same options from the docker provider, through the ContainerNeeds the engine declares', () => {
    const needs = kubernetesContainerNeeds()
    expect(needs.imageVariant).toBe('k8s-host')
    const fromProvider = containerNeedsOptions(needs)
    const expected = nodeContainerCreateOptions()
    expect(fromProvider.Volumes).toEqual(expected.Volumes)
    expect(fromProvider.HostConfig).toEqual(expected.HostConfig)
    expect(fromProvider.HostConfig).not.toHaveProperty('Privileged')
    // What other engines ask for is unchanged: Nomad's needs give exactly what they gave before.
    expect(containerNeedsOptions({capAdd: ['SYS_ADMIN'], writableCgroups: true})).toEqual({HostConfig: {Init: false, CapAdd: ['SYS_ADMIN'], CgroupnsMode: 'private'}})
    expect(containerNeedsOptions({})).toEqual({HostConfig: {Init: false}})
  })

  it("have their entrypoint shadow exactly the kernel settings the kubelet writes, with the kubelet's values", () => {
    const list = /<<'LIST'\n([\s\S]*?)\nLIST\n/.exec(entrypoint)![1]!.split('\n').map((line) => {
      const [path, value] = line.split(' ')
      return {path, value}
    })
    expect(list).toEqual(SHADOWED_SYSCTLS)
    expect(SHADOWED_SYSCTLS.map((s) => s.path)).toEqual([
      '/proc/sys/vm/overcommit_memory',
      '/proc/sys/vm/panic_on_oom',
      '/proc/sys/kernel/panic',
      '/proc/sys/kernel/panic_on_oops',
      '/proc/sys/kernel/keys/root_maxkeys',
      '/proc/sys/kernel/keys/root_maxbytes',
    ])
    // Shadowing comes before anything else starts, and a failure stops the container.
    expect(entrypoint.indexOf('mount --bind')).toBeLessThan(entrypoint.indexOf('exec /usr/local/sbin/cms-entrypoint'))
    expect(entrypoint).toMatch(/cannot shadow \$path; stopping" >&2; exit 1/)
    expect(entrypoint).toMatch(/^set -eu$/m)
  })
})
