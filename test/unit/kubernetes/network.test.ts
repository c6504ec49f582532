import {describe, expect, it} from 'vitest'
import {cidrContains, cidrsOverlap, clusterDnsAddress, firstHost, nodePodCidr, parseCidr} from '../../../src/engines/kubernetes/network.js'

describe('the Kubernetes address plan', () => {
  it('puts the API server first in the service range and DNS tenth', () => {
    expect(firstHost('10.96.0.0/12')).toBe('10.96.0.1')
    expect(clusterDnsAddress('10.96.0.0/12')).toBe('10.96.0.10')
    expect(firstHost('172.20.0.0/16')).toBe('172.20.0.1')
  })

  it('gives node index N the N-th /24 of the pod network, within it', () => {
    expect(nodePodCidr('10.244.0.0/16', 0)).toBe('10.244.0.0/24')
    expect(nodePodCidr('10.244.0.0/16', 3)).toBe('10.244.3.0/24')
    expect(nodePodCidr('10.244.0.0/16', 255)).toBe('10.244.255.0/24')
    expect(nodePodCidr('10.0.0.0/8', 256)).toBe('10.1.0.0/24')
    expect(() => nodePodCidr('10.244.0.0/16', 256)).toThrow(/outside the 256/)
    expect(() => nodePodCidr('10.244.0.0/16', -1)).toThrow()
    expect(() => nodePodCidr('10.244.0.0/16', 1.5)).toThrow()
    expect(() => nodePodCidr('10.244.0.0/25', 0)).toThrow(/\/24 or larger/)
  })

  it('refuses malformed CIDRs and host bits', () => {
    expect(parseCidr('10.244.0.0/16')).toEqual({address: '10.244.0.0', prefix: 16})
    expect(() => parseCidr('10.244.0.1/16')).toThrow(/host bits set: its network is 10.244.0.0\/16/)
    expect(() => parseCidr('10.244.0.0')).toThrow(/not an IPv4 CIDR/)
    expect(() => parseCidr('10.244.0.0/33')).toThrow()
    expect(() => parseCidr('300.1.1.0/24')).toThrow()
    expect(() => parseCidr('fd00::/64')).toThrow()
  })

  it('knows containment and overlap', () => {
    expect(cidrContains('10.244.0.0/16', '10.244.7.0/24')).toBe(true)
    expect(cidrContains('10.244.0.0/16', '10.245.0.0/24')).toBe(false)
    expect(cidrContains('10.244.7.0/24', '10.244.0.0/16')).toBe(false)
    expect(cidrsOverlap('10.96.0.0/12', '10.244.0.0/16')).toBe(false)
    expect(cidrsOverlap('10.96.0.0/12', '10.100.0.0/16')).toBe(true)
    expect(cidrsOverlap('0.0.0.0/0', '10.100.0.0/16')).toBe(true)
  })
})
