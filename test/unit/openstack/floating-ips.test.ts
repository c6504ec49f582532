import {describe, expect, it} from 'vitest'
import {clusterFloatingIps, floatingAddresses, floatingNetworkOf, type FloatingIp} from '../../../src/providers/openstack/floating-ips.js'
import {validateOpenStackLaunch} from '../../../src/providers/openstack/launch-options.js'
import {pickExternalNetwork} from '../../../src/providers/openstack/resources.js'
import {groupClusters, hostFromServer, type NovaServer, serverRequest} from '../../../src/providers/openstack/servers.js'

const server = (id: string, index: number, meta: Record<string, string> = {}): NovaServer => ({
  id,
  name: `cms-lab-${index}`,
  status: 'ACTIVE',
  metadata: {'cms-cluster': 'lab', 'cms-role': index === 1 ? 'head' : 'worker', 'cms-index': String(index), ...meta},
  addresses: {lab: [{addr: `10.0.0.${index}`, version: 4, 'OS-EXT-IPS:type': 'fixed'}]},
})
const fip = (id: string, address: string, extra: Partial<FloatingIp>): FloatingIp => ({id, floating_ip_address: address, floating_network_id: 'pub', ...extra})

describe('floating IPs (--floating-ip)', () => {
  it('the network must be external; an unknown or internal one names the external ones', () => {
    const nets = [
      {id: 'n1', name: 'lab'},
      {id: 'n2', name: 'public', 'router:external': true},
    ]
    expect(pickExternalNetwork(nets, 'public').id).toBe('n2')
    expect(pickExternalNetwork(nets, 'n2').name).toBe('public')
    expect(() => pickExternalNetwork(nets, 'lab')).toThrow('--floating-ip lab: network lab is not external (router:external), so it has no floating IPs (external: public)')
    expect(() => pickExternalNetwork(nets, 'nope')).toThrow('unknown network "nope" (--floating-ip): the cloud has lab, public')
  })

  it('needs --ssh-cidr: who reaches the hosts from outside their network cannot be guessed from it', () => {
    expect(() => validateOpenStackLaunch({floatingIp: 'public'})).toThrow('--floating-ip needs --ssh-cidr')
    expect(validateOpenStackLaunch({floatingIp: 'public', sshCidr: '203.0.113.7/32'})).toMatchObject({floatingNetwork: 'public', sshCidr: '203.0.113.7/32'})
    expect(() => validateOpenStackLaunch({floatingIp: 'bad\nname', sshCidr: '203.0.113.7/32'})).toThrow('invalid --floating-ip')
  })

  it("a server's floating address is the one bound to its port or fixed address; cms connects there, the engine binds the fixed one", () => {
    const servers = [server('s1', 1, {'cms-floating-network': 'pub'}), server('s2', 2, {'cms-floating-network': 'pub'}), server('s3', 3)]
    const fips = [
      fip('f1', '203.0.113.1', {port_id: 'p1', port_details: {device_id: 's1'}, fixed_ip_address: '10.0.0.1'}),
      fip('f2', '203.0.113.2', {port_id: 'p2', fixed_ip_address: '10.0.0.2'}),
      // Unbound (its server is gone): no host's.
      fip('f3', '203.0.113.3', {port_id: null, fixed_ip_address: null, tags: ['cms', 'cms-cluster=lab']}),
    ]
    const floating = floatingAddresses(fips, servers)
    expect([...floating]).toEqual([
      ['s1', '203.0.113.1'],
      ['s2', '203.0.113.2'],
    ])
    expect(hostFromServer(servers[0]!, '/k', floating.get('s1'))).toMatchObject({target: {host: '203.0.113.1'}, privateAddress: '10.0.0.1', state: 'running'})
    expect(groupClusters(servers, new Date(), floating)[0]!.summary.head).toBe('203.0.113.1')
    expect(floatingNetworkOf(servers[0]!)).toBe('pub')
    expect(floatingNetworkOf(servers[2]!)).toBeUndefined()
  })

  it("the cluster's floating IPs: tagged with it, or bound to one of its servers", () => {
    const fips = [
      fip('f1', '203.0.113.1', {port_details: {device_id: 's1'}}),
      fip('f2', '203.0.113.2', {tags: ['cms', 'cms-cluster=lab']}),
      fip('f3', '203.0.113.3', {tags: ['cms', 'cms-cluster=lab2'], port_details: {device_id: 'other'}}),
    ]
    expect(clusterFloatingIps(fips, 'lab', ['s1']).map((f) => f.id)).toEqual(['f1', 'f2'])
  })

  it('every server of the cluster names the external network, so add and a rerun keep giving floating IPs', () => {
    const body = serverRequest({cluster: 'lab', index: 2, role: 'worker', engine: 'spark', sshUser: 'debian', hostKey: 'k', userData: '', flavorId: 'f', imageId: 'i', networkId: 'n', floatingNetworkId: 'pub', keyName: 'cms-lab', securityGroup: 'sg'})
    expect((body.server.metadata as Record<string, string>)['cms-floating-network']).toBe('pub')
  })
})
