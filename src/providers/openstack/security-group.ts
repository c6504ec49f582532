import {OpenStackError, type OpenStackApi} from './client.js'
import {clusterTag, CMS_TAG} from './servers.js'

export interface SecurityGroupRule {
  id?: string
  direction: 'ingress' | 'egress'
  ethertype: 'IPv4' | 'IPv6'
  protocol?: string | null
  port_range_min?: number | null
  port_range_max?: number | null
  remote_ip_prefix?: string | null
  remote_group_id?: string | null
}

export interface SecurityGroup {
  id: string
  name: string
  tags?: string[]
  security_group_rules?: SecurityGroupRule[]
}

export function securityGroupName(cluster: string): string {
  return `cms-${cluster}`
}

/** SSH (tcp 22) from one CIDR, and everything from the group's own members: the engine's traffic between hosts. */
export function desiredRules(groupId: string, sshCidr: string): SecurityGroupRule[] {
  return [
    {direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: sshCidr},
    {direction: 'ingress', ethertype: 'IPv4', protocol: null, remote_group_id: groupId},
  ]
}

function same(a: SecurityGroupRule, b: SecurityGroupRule): boolean {
  return (
    a.direction === b.direction &&
    a.ethertype === b.ethertype &&
    (a.protocol ?? null) === (b.protocol ?? null) &&
    (a.port_range_min ?? null) === (b.port_range_min ?? null) &&
    (a.port_range_max ?? null) === (b.port_range_max ?? null) &&
    (a.remote_ip_prefix ?? null) === (b.remote_ip_prefix ?? null) &&
    (a.remote_group_id ?? null) === (b.remote_group_id ?? null)
  )
}

/** The wanted rules a group lacks (rules it has beyond them are left alone). */
export function missingRules(existing: SecurityGroupRule[], wanted: SecurityGroupRule[]): SecurityGroupRule[] {
  return wanted.filter((w) => !existing.some((e) => same(e, w)))
}

export async function findSecurityGroups(api: OpenStackApi, cluster: string): Promise<SecurityGroup[]> {
  const out = await api.get<{security_groups: SecurityGroup[]}>('network', `/security-groups?tags=${encodeURIComponent(clusterTag(cluster))}`)
  return out.security_groups
}

/**
 * The cluster's security group: made and tagged if missing; an existing one gets the rules it lacks (the client's
 * address may have changed) and keeps the rest.
 */
export async function ensureSecurityGroup(api: OpenStackApi, cluster: string, sshCidr: string, log: (line: string) => void, existing?: SecurityGroup): Promise<SecurityGroup> {
  let group = existing
  if (!group) {
    const made = await api.call<{security_group: SecurityGroup}>('network', 'POST', '/security-groups', {
      security_group: {name: securityGroupName(cluster), description: `cms cluster ${cluster}: SSH from ${sshCidr}, all traffic between members`},
    })
    group = made!.security_group
    try {
      await api.call('network', 'PUT', `/security-groups/${group.id}/tags`, {tags: [CMS_TAG, clusterTag(cluster)]})
    } catch (error) {
      // Untagged, kill could not find it: it goes now.
      await api.call('network', 'DELETE', `/security-groups/${group.id}`, undefined, {allow404: true})
      throw error
    }
    log(`Created security group ${group.id} (${group.name})`)
  }
  for (const rule of missingRules(group.security_group_rules ?? [], desiredRules(group.id, sshCidr))) {
    await api.call('network', 'POST', '/security-group-rules', {security_group_rule: {...rule, security_group_id: group.id}})
  }
  return group
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Deletes a group; while the ports of servers just deleted still use it (409), retried for up to `timeoutMs`. */
export async function deleteSecurityGroup(api: OpenStackApi, id: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (let attempt = 1; attempt <= 60; attempt++) {
    try {
      await api.call('network', 'DELETE', `/security-groups/${id}`, undefined, {allow404: true})
      return
    } catch (error) {
      if ((error as OpenStackError).status !== 409 || Date.now() > deadline) throw error
      await sleep(Math.min(1000 * attempt, 5000))
    }
  }
  throw new OpenStackError(`security group ${id} is still in use after ${timeoutMs / 1000} s`)
}
