import {describe, expect, it} from 'vitest'
import {validateCreate} from '../../../src/cluster/create.js'
import {engineHostNeeds} from '../../../src/engines/registry.js'
import {lxdLaunchFlagsGiven, lxdLaunchOptionsOf} from '../../../src/providers/lxd/flags.js'
import {hostFromInstance, instanceRequest, KEY, limitsOf, type LxdInstance} from '../../../src/providers/lxd/instances.js'
import {validateLxdLaunch} from '../../../src/providers/lxd/launch-options.js'
import {instanceTypesOf, vmSupportProblem} from '../../../src/providers/lxd/vm-support.js'
import {providerEntry, refuseOtherProvidersFlags} from '../../../src/providers/registry.js'

const newHost = {cluster: 'k', index: 1, role: 'head' as const, engine: 'kubernetes', sshUser: 'root', hostKey: 'ssh-ed25519 AAAA', userData: '#cloud-config\n{}'}

describe('lxd virtual machines (--vm)', () => {
  it('engines say what they need of a host: Kubernetes a root login, the others nothing', () => {
    expect(engineHostNeeds('kubernetes')).toEqual({engine: 'kubernetes', rootLogin: true})
    expect(engineHostNeeds('spark')).toEqual({engine: 'spark'})
    expect(engineHostNeeds('nomad')).toEqual({engine: 'nomad'})
    expect(engineHostNeeds('hadoop')).toEqual({engine: 'hadoop'})
  })

  it('--vm is an lxd create flag, refused with the other providers', () => {
    expect(lxdLaunchOptionsOf({vm: true})).toMatchObject({vm: true})
    expect(lxdLaunchFlagsGiven({vm: true, cpus: 1})).toEqual(['--cpus', '--vm'])
    expect(lxdLaunchFlagsGiven({})).toEqual([])
    expect(() => refuseOtherProvidersFlags('docker', {vm: true})).toThrow('--vm: only for the lxd provider (-p lxd)')
    expect(() => refuseOtherProvidersFlags('aws', {vm: true})).toThrow('--vm: only for the lxd provider (-p lxd)')
  })

  it('Kubernetes on lxd runs in containers or, with --vm, in VMs; either way cms logs in as root', () => {
    const kubernetes = engineHostNeeds('kubernetes')
    expect(providerEntry('lxd').checkCreate({cpus: 2}, kubernetes)).toEqual({cpus: 2, sshUser: 'root'})
    expect(providerEntry('lxd').checkCreate({vm: true, memory: '2GiB'}, kubernetes)).toEqual({vm: true, memoryMb: 2048, sshUser: 'root'})
    // The other engines: containers by default, VMs when asked, as cloud-init's default user.
    expect(providerEntry('lxd').checkCreate({}, engineHostNeeds('spark'))).toEqual({})
    expect(providerEntry('lxd').checkCreate({vm: true}, engineHostNeeds('spark'))).toEqual({vm: true})
    expect(providerEntry('docker').checkCreate({}, kubernetes)).toBeUndefined()
    expect(providerEntry('aws').checkCreate({}, kubernetes)).toEqual({sshUser: 'root'})
  })

  it('create takes lxd\'s flags with the engine\'s options', () => {
    const env = {...process.env}
    try {
      for (const v of ['CMS_K8S_DIST', 'CMS_COREDNS_DIST', 'CMS_LOCAL_PATH_DIST']) delete process.env[v]
      expect(validateCreate({name: 'spk', provider: 'lxd' as const, engine: 'spark', hostCount: 2, hostSpecs: [], options: {}, providerOptions: {vm: true, memory: '2GiB'}}).launch).toEqual({vm: true, memoryMb: 2048})
    } finally {
      process.env = env
    }
  })

  it('a VM instance: type virtual-machine, secure boot off (the image\'s boot loader is unsigned), the same keys and limits', () => {
    const vm = instanceRequest({...newHost, vm: true, cpus: 2, memoryMb: 2048}, 'cms-debian-12-vm')
    expect(vm).toEqual({
      name: 'cms-k-1',
      type: 'virtual-machine',
      source: {type: 'image', alias: 'cms-debian-12-vm'},
      config: {
        'user.cms.cluster': 'k',
        'user.cms.role': 'head',
        'user.cms.engine': 'kubernetes',
        'user.cms.index': '1',
        'user.cms.ssh-user': 'root',
        'user.cms.host-key': 'ssh-ed25519 AAAA',
        'user.user-data': '#cloud-config\n{}',
        'limits.cpu': '2',
        'limits.memory': '2048MiB',
        'security.secureboot': 'false',
      },
    })
    const container = instanceRequest(newHost, 'cms-debian-12')
    expect(container.type).toBe('container')
    expect(container.config).not.toHaveProperty('security.secureboot')
  })

  it('info names a VM host a virtual machine, reached as the user it is tagged with', () => {
    const i: LxdInstance = {name: 'cms-k-1', type: 'virtual-machine', status: 'Running', config: {[KEY.role]: 'head', [KEY.sshUser]: 'root', 'limits.cpu': '2', 'limits.memory': '2048MiB'}}
    expect(limitsOf(i)).toBe('virtual machine (2 CPUs, 2048MiB)')
    expect(limitsOf({...i, type: 'container', config: {}})).toBe('container')
    expect(hostFromInstance(i, '/k').target.user).toBe('root')
  })

  it('the daemon says whether it runs VMs (GET /1.0: instance_types, or LXD 5.0\'s operational drivers); when not, one line says why', () => {
    expect(instanceTypesOf({environment: {instance_types: ['container', 'virtual-machine'], driver: 'lxc | qemu'}})).toEqual(['container', 'virtual-machine'])
    // LXD 5.0.2 has no instance_types: its driver field lists the drivers that work here.
    expect(instanceTypesOf({environment: {driver: 'lxc | qemu'}})).toEqual(['container', 'virtual-machine'])
    expect(instanceTypesOf({environment: {driver: 'lxc'}})).toEqual(['container'])
    expect(instanceTypesOf({environment: {driver: 'qemu'}})).toEqual(['virtual-machine'])
    expect(instanceTypesOf({})).toEqual([])
    expect(vmSupportProblem({environment: {instance_types: ['container', 'virtual-machine']}}, '/s')).toBeUndefined()
    expect(vmSupportProblem({environment: {driver: 'lxc | qemu'}}, '/s')).toBeUndefined()
    expect(vmSupportProblem({environment: {driver: 'lxc'}}, '/var/lib/cms-lxd/unix.socket')).toBe(
      '--vm: the LXD daemon at /var/lib/cms-lxd/unix.socket cannot run virtual machines (it runs container instances only; VMs need /dev/kvm, the vhost_vsock module, QEMU and OVMF on its machine)',
    )
    expect(vmSupportProblem({environment: {instance_types: ['container']}}, '/s')).toContain('(it runs container instances only;')
    expect(vmSupportProblem({}, 'https://h:8443')).toContain('(it reports no instance types;')
  })
})
