import {describe, expect, it} from 'vitest'
import {desiredIngress, isIpv4Cidr, memberRule, missingIngress, sshRule} from '../../../src/providers/aws/security-group-rules.js'

describe('aws security group rules', () => {
  it('lets SSH in from one CIDR and everything from the cluster\'s own members, nothing else', () => {
    const rules = desiredIngress('sg-1234', '203.0.113.7/32')
    expect(rules).toEqual([
      {IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{CidrIp: '203.0.113.7/32', Description: 'cms: SSH from the client'}]},
      {IpProtocol: '-1', UserIdGroupPairs: [{GroupId: 'sg-1234', Description: 'cms: cluster members'}]},
    ])
    const fromOutside = rules.filter((r) => (r.IpRanges ?? []).length > 0)
    expect(fromOutside).toHaveLength(1)
    expect(rules.some((r) => (r.IpRanges ?? []).some((x) => x.CidrIp === '0.0.0.0/0'))).toBe(false)
  })

  it('adds only what an existing group lacks (a new client address), keeping other rules', () => {
    const existing = [
      {IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{CidrIp: '198.51.100.1/32'}]},
      {IpProtocol: '-1', UserIdGroupPairs: [{GroupId: 'sg-1234', UserId: '123456789012'}]},
      {IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{CidrIp: '10.0.0.0/8'}]},
    ]
    expect(missingIngress(existing, desiredIngress('sg-1234', '198.51.100.1/32'))).toEqual([])
    expect(missingIngress(existing, desiredIngress('sg-1234', '203.0.113.7/32'))).toEqual([sshRule('203.0.113.7/32')])
    expect(missingIngress([], desiredIngress('sg-9', '10.0.0.0/16'))).toEqual([sshRule('10.0.0.0/16'), memberRule('sg-9')])
    // Another port from the same CIDR is not SSH.
    expect(missingIngress([{IpProtocol: 'tcp', FromPort: 2222, ToPort: 2222, IpRanges: [{CidrIp: '10.0.0.0/16'}]}], [sshRule('10.0.0.0/16')])).toHaveLength(1)
  })

  it('accepts IPv4 CIDRs only', () => {
    for (const ok of ['203.0.113.7/32', '10.0.0.0/8', '0.0.0.0/0', '127.0.0.0/16']) expect(isIpv4Cidr(ok), ok).toBe(true)
    for (const bad of ['203.0.113.7', '256.0.0.0/8', '10.0.0.0/33', '010.0.0.0/8', '::/0', '10.0.0.0/8 ', 'x/32']) expect(isIpv4Cidr(bad), bad).toBe(false)
  })
})
