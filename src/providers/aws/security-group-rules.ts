import type {IpPermission} from '@aws-sdk/client-ec2'

/** SSH (tcp 22) from one CIDR: the only way in from outside the cluster. */
export function sshRule(cidr: string): IpPermission {
  return {IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{CidrIp: cidr, Description: 'cms: SSH from the client'}]}
}

/** Every protocol and port, from members of the same group: the engine's own traffic between hosts. */
export function memberRule(groupId: string): IpPermission {
  return {IpProtocol: '-1', UserIdGroupPairs: [{GroupId: groupId, Description: 'cms: cluster members'}]}
}

export function desiredIngress(groupId: string, sshCidr: string): IpPermission[] {
  return [sshRule(sshCidr), memberRule(groupId)]
}

function covers(existing: IpPermission[], wanted: IpPermission): boolean {
  return existing.some((p) => {
    if (p.IpProtocol !== wanted.IpProtocol) return false
    if (wanted.IpProtocol !== '-1' && (p.FromPort !== wanted.FromPort || p.ToPort !== wanted.ToPort)) return false
    const cidrs = (wanted.IpRanges ?? []).every((r) => (p.IpRanges ?? []).some((e) => e.CidrIp === r.CidrIp))
    const groups = (wanted.UserIdGroupPairs ?? []).every((g) => (p.UserIdGroupPairs ?? []).some((e) => e.GroupId === g.GroupId))
    return cidrs && groups
  })
}

/** The wanted rules an existing group lacks (rules it has beyond them are left alone). */
export function missingIngress(existing: IpPermission[], wanted: IpPermission[]): IpPermission[] {
  return wanted.filter((w) => !covers(existing, w))
}

/** True for a valid IPv4 CIDR such as 203.0.113.7/32 or 10.0.0.0/16. */
export function isIpv4Cidr(text: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text)
  return m !== null && m.slice(1, 5).every((o) => Number(o) <= 255 && String(Number(o)) === o) && Number(m[5]) <= 32
}
