import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  type DescribeSecurityGroupsCommandOutput,
  type SecurityGroup,
} from '@aws-sdk/client-ec2'
import {AwsError, type Ec2Api} from './client.js'
import {securityGroupName} from './names.js'
import {desiredIngress, missingIngress} from './security-group-rules.js'
import {clusterResourceTags, resourceFilters, TAG, tagMap, tagSpecification} from './tags.js'


export async function findSecurityGroups(api: Ec2Api, cluster: string): Promise<SecurityGroup[]> {
  const out = await api.send<DescribeSecurityGroupsCommandOutput>(new DescribeSecurityGroupsCommand({Filters: resourceFilters(cluster)}))
  return out.SecurityGroups ?? []
}

/**
 * The cluster's security group in `vpcId`: SSH only from `sshCidr`, everything between the cluster's members.
 * Made if missing; an existing one gets the rules it lacks (the client's address may have changed), and keeps the
 * rest.
 */
export async function ensureSecurityGroup(
  api: Ec2Api,
  cluster: string,
  vpcId: string,
  sshCidr: string,
  log: (line: string) => void,
  existing?: SecurityGroup,
): Promise<SecurityGroup> {
  let group = existing
  if (group && group.VpcId !== vpcId) {
    throw new AwsError(`cluster ${cluster}'s security group ${group.GroupId} is in ${group.VpcId}, not in ${vpcId} where its hosts go: pass the same --subnet as before, or kill the cluster`)
  }
  if (!group) {
    const made = await api.send<{GroupId?: string}>(
      new CreateSecurityGroupCommand({
        GroupName: securityGroupName(cluster),
        Description: `cms cluster ${cluster}: SSH from ${sshCidr}, all traffic between members`,
        VpcId: vpcId,
        TagSpecifications: [tagSpecification('security-group', clusterResourceTags(cluster))],
      }),
    )
    group = {GroupId: made.GroupId, VpcId: vpcId, IpPermissions: [], Tags: clusterResourceTags(cluster)}
    log(`Created security group ${made.GroupId} (${securityGroupName(cluster)}) in ${vpcId}`)
  }
  const missing = missingIngress(group.IpPermissions ?? [], desiredIngress(group.GroupId!, sshCidr))
  if (missing.length > 0) {
    await api.send(new AuthorizeSecurityGroupIngressCommand({GroupId: group.GroupId, IpPermissions: missing}))
    group = {...group, IpPermissions: [...(group.IpPermissions ?? []), ...missing]}
    if (existing) log(`Security group ${group.GroupId}: allowed SSH from ${sshCidr}`)
  }
  return group
}

/** The highest host index ever launched in this cluster (kept on its security group). */
export function lastIndex(group: SecurityGroup | undefined): number {
  return Number(tagMap(group?.Tags)[TAG.lastIndex] ?? 0) || 0
}

export async function recordLastIndex(api: Ec2Api, group: SecurityGroup, index: number): Promise<void> {
  await api.send(new CreateTagsCommand({Resources: [group.GroupId!], Tags: [{Key: TAG.lastIndex, Value: String(index)}]}))
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Deletes a security group. Right after its instances terminate, AWS may still see their network interfaces
 * (DependencyViolation): retried for up to `timeoutMs`.
 */
export async function deleteSecurityGroup(api: Ec2Api, groupId: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (let attempt = 1; ; attempt++) {
    try {
      await api.send(new DeleteSecurityGroupCommand({GroupId: groupId}))
      return
    } catch (error) {
      const code = (error as AwsError).code
      if (code === 'InvalidGroup.NotFound') return
      if (code !== 'DependencyViolation' || Date.now() > deadline || attempt >= 60) throw error
      await sleep(Math.min(2000 * attempt, 10_000))
    }
  }
}
