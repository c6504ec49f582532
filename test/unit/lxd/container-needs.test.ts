import {describe, expect, it} from 'vitest'
import {kubernetesContainerNeeds} from '../../../src/engines/kubernetes/node-container.js'
import {lxdContainerSetup} from '../../../src/providers/lxd/container-needs.js'
import {instanceRequest} from '../../../src/providers/lxd/instances.js'

const newHost = {cluster: 'k', index: 2, role: 'worker' as const, engine: 'kubernetes', sshUser: 'root', hostKey: 'ssh-ed25519 AAAA', userData: '#cloud-config\n{}'}

describe('what an engine needs of an LXD container', () => {
  it('a Kubernetes node (every capability) is a privileged container with nesting and /dev/kmsg, from the k8s-host image', () => {
    expect(lxdContainerSetup(kubernetesContainerNeeds())).toEqual({
      config: {'security.privileged': 'true', 'security.nesting': 'true'},
      devices: {kmsg: {type: 'unix-char', source: '/dev/kmsg', path: '/dev/kmsg'}},
      imageVariant: 'k8s-host',
    })
  })

  it('a Nomad client (SYS_ADMIN, its cgroup subtree) and the engines that ask nothing stay unprivileged', () => {
    expect(lxdContainerSetup({capAdd: ['SYS_ADMIN'], writableCgroups: true})).toEqual({config: {}, devices: {}})
    expect(lxdContainerSetup(undefined)).toEqual({config: {}, devices: {}})
  })

  it('refuses a device that is not a plain /dev node', () => {
    expect(() => lxdContainerSetup({devices: ['/dev/../etc/shadow']})).toThrow('not a device node')
  })

  it('the instance request carries the setup for a container, and nothing of it for a VM', () => {
    const setup = lxdContainerSetup(kubernetesContainerNeeds())
    const container = instanceRequest({...newHost, setup}, 'cms-debian-12-k8s-host')
    expect(container).toMatchObject({type: 'container', source: {type: 'image', alias: 'cms-debian-12-k8s-host'}, devices: setup.devices})
    expect(container.config).toMatchObject({'security.privileged': 'true', 'security.nesting': 'true', 'user.cms.role': 'worker'})
    const vm = instanceRequest({...newHost, vm: true, setup}, 'cms-debian-12-vm')
    expect(vm).not.toHaveProperty('devices')
    expect(vm.config).not.toHaveProperty('security.privileged')
    expect(instanceRequest(newHost, 'cms-debian-12')).not.toHaveProperty('devices')
  })
})
