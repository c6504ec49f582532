import {describe, expect, it} from 'vitest'
import {endpointFor, errorMessage} from '../../../src/providers/openstack/client.js'
import {openstackLaunchFlagsGiven, openstackLaunchOptionsOf} from '../../../src/providers/openstack/flags.js'
import {validateOpenStackLaunch} from '../../../src/providers/openstack/launch-options.js'
import {pickFlavor, pickImage, pickNetwork} from '../../../src/providers/openstack/resources.js'
import {desiredRules, missingRules} from '../../../src/providers/openstack/security-group.js'

describe('the catalog decides every endpoint', () => {
  const catalog = [
    {type: 'compute', endpoints: [{interface: 'public', region_id: 'R1', url: 'https://nova.r1/v2.1'}, {interface: 'public', region_id: 'R2', url: 'https://nova.r2/v2.1/'}]},
    {type: 'network', endpoints: [{interface: 'internal', region_id: 'R1', url: 'http://neutron.internal:9696'}, {interface: 'public', region_id: 'R1', url: 'https://neutron/v2.0'}]},
    {type: 'image', endpoints: [{interface: 'public', region: 'R1', url: 'https://glance'}]},
  ]
  it('by type, interface and region; each API under its version', () => {
    expect(endpointFor(catalog, 'compute', 'public', 'R2')).toBe('https://nova.r2/v2.1')
    expect(endpointFor(catalog, 'compute', 'public')).toBe('https://nova.r1/v2.1')
    expect(endpointFor(catalog, 'network', 'internal', 'R1')).toBe('http://neutron.internal:9696/v2.0')
    expect(endpointFor(catalog, 'network', 'public', 'R1')).toBe('https://neutron/v2.0')
    expect(endpointFor(catalog, 'image', 'public', 'R1')).toBe('https://glance/v2')
    expect(endpointFor(catalog, 'image', 'admin', 'R1')).toBeUndefined()
    expect(endpointFor(catalog, 'compute', 'public', 'R3')).toBeUndefined()
  })
  it('errors come out as their first line, whichever service nested them', () => {
    expect(errorMessage('{"NeutronError": {"type": "X", "message": "Quota exceeded\\nmore"}}')).toBe('Quota exceeded')
    expect(errorMessage('{"itemNotFound": {"code": 404, "message": "Flavor x could not be found."}}')).toBe('Flavor x could not be found.')
    expect(errorMessage('{"error": {"code": 401, "message": "The request you have made requires authentication."}}')).toBe('The request you have made requires authentication.')
    expect(errorMessage('<html><body><h1>502 Bad Gateway</h1></body></html>')).toBe('502 Bad Gateway')
  })
})

describe('flavor, image and network', () => {
  const flavors = [
    {id: 'f1', name: 'm1.small', vcpus: 1, ram: 2048},
    {id: 'f3', name: 'm1.large', vcpus: 4, ram: 8192},
    {id: 'f2', name: 'm1.medium', vcpus: 2, ram: 4096},
  ]
  it('a flavor by name or id, else the smallest with 2 vCPUs and 4 GiB; an unknown one names what there is', () => {
    expect(pickFlavor(flavors, 'm1.large').id).toBe('f3')
    expect(pickFlavor(flavors, 'f1').name).toBe('m1.small')
    expect(pickFlavor(flavors).name).toBe('m1.medium')
    expect(() => pickFlavor(flavors, 'm9.huge')).toThrow('unknown flavor "m9.huge" (--flavor): the cloud has m1.small, m1.large, m1.medium')
    expect(() => pickFlavor([flavors[0]!])).toThrow('no flavor has 2 vCPUs and 4 GiB: pass --flavor')
  })
  it('the newest active Debian 12 image, by its properties or else its name', () => {
    const images = [
      {id: 'a', name: 'debian-12-old', status: 'active', created_at: '2026-01-01T00:00:00Z', os_distro: 'debian', os_version: '12'},
      {id: 'b', name: 'Debian 12 bookworm (new)', status: 'active', created_at: '2026-06-01T00:00:00Z'},
      {id: 'c', name: 'debian-13', status: 'active', created_at: '2026-09-01T00:00:00Z', os_distro: 'debian', os_version: '13'},
      {id: 'd', name: 'debian-12-queued', status: 'queued', created_at: '2026-10-01T00:00:00Z', os_distro: 'debian', os_version: '12'},
      {id: 'e', name: 'ubuntu-debian-12-like', status: 'active', created_at: '2026-11-01T00:00:00Z', os_distro: 'ubuntu', os_version: '24.04'},
    ]
    expect(pickImage(images).id).toBe('b')
    expect(pickImage(images, 'debian-13').id).toBe('c')
    expect(() => pickImage(images, 'd')).toThrow('unknown image "d" (--image)')
    expect(() => pickImage(images.slice(2))).toThrow('no Debian 12 image is visible in this cloud: pass --image')
  })
  it('the only internal network by default; two of one name need an id', () => {
    const nets = [
      {id: 'n1', name: 'lab'},
      {id: 'n2', name: 'public', 'router:external': true},
    ]
    expect(pickNetwork(nets).id).toBe('n1')
    expect(pickNetwork(nets, 'public').id).toBe('n2')
    expect(() => pickNetwork([...nets, {id: 'n3', name: 'lab'}], 'lab')).toThrow('--network lab: 2 networks have that name (n1, n3): pass an id')
    expect(() => pickNetwork([...nets, {id: 'n3', name: 'other'}])).toThrow('2 networks to put the hosts on: pass --network')
  })
})

describe('the security group and the create flags', () => {
  it('SSH from one CIDR and everything between members; only what is missing is added', () => {
    const wanted = desiredRules('sg1', '10.0.0.0/24')
    expect(wanted).toEqual([
      {direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '10.0.0.0/24'},
      {direction: 'ingress', ethertype: 'IPv4', protocol: null, remote_group_id: 'sg1'},
    ])
    const existing = [
      {direction: 'egress' as const, ethertype: 'IPv4' as const, protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: null},
      {direction: 'ingress' as const, ethertype: 'IPv4' as const, protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: 'sg1'},
    ]
    expect(missingRules(existing, wanted)).toEqual([wanted[0]])
    expect(missingRules([...existing, {...wanted[0]!, remote_group_id: null}], wanted)).toEqual([])
  })
  it('flags are checked before anything is asked; --ssh-cidr, --ssh-user and --max-age are the shared ones', () => {
    const opts = openstackLaunchOptionsOf({flavor: 'm1.large', 'ssh-cidr': '10.0.0.0/8', 'max-age': '90m'})
    expect(validateOpenStackLaunch(opts)).toMatchObject({flavor: 'm1.large', sshCidr: '10.0.0.0/8', maxAge: '1h30m'})
    expect(() => validateOpenStackLaunch({...opts, sshCidr: '10.0.0.0'})).toThrow('invalid --ssh-cidr "10.0.0.0"')
    expect(() => validateOpenStackLaunch({image: ' padded'})).toThrow('invalid --image " padded": expected a name or an id')
    expect(openstackLaunchFlagsGiven({flavor: 'x', 'ssh-user': 'debian', spot: true})).toEqual(['--flavor', '--ssh-user'])
  })
})
