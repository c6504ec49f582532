import type {Filter, Tag, TagSpecification} from '@aws-sdk/client-ec2'

/**
 * cms keeps no local state for aws clusters: the instance tags are the membership, like docker's labels (same
 * keys, with '-' as AWS users write them). The security group and the key pair carry cms-cluster too.
 */
export const TAG = {
  cluster: 'cms-cluster',
  role: 'cms-role',
  engine: 'cms-engine',
  index: 'cms-index',
  /** The cluster's lifetime (a duration like 8h); `cms cluster reap` kills clusters older than it. */
  maxAge: 'cms-max-age',
  /** Who cms logs in as (cloud-init's default user). */
  sshUser: 'cms-ssh-user',
  /** The host's public SSH key, made by cms: what cms trusts for the instance's address, with no first-use guess. */
  hostKey: 'cms-host-key',
  /** --volume-size, so `add` gives new hosts the same disk. */
  volumeSize: 'cms-volume-size',
  /** On the security group: the highest host index ever launched, so an index (and its ClientToken) is never reused. */
  lastIndex: 'cms-last-index',
} as const

/** Instances that still exist or are coming up; terminated and shutting-down ones are gone for cms. */
export const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped']

/** DescribeInstances filters: one cluster's live instances, or every cms cluster's (for list: one call). */
export function instanceFilters(cluster?: string): Filter[] {
  return [
    cluster === undefined ? {Name: 'tag-key', Values: [TAG.cluster]} : {Name: `tag:${TAG.cluster}`, Values: [cluster]},
    {Name: 'instance-state-name', Values: LIVE_STATES},
  ]
}

/** Filters for a cluster's other resources (security group, key pair). */
export function resourceFilters(cluster: string): Filter[] {
  return [{Name: `tag:${TAG.cluster}`, Values: [cluster]}]
}

export function tagMap(tags: Tag[] | undefined): Record<string, string> {
  const map: Record<string, string> = {}
  for (const t of tags ?? []) if (t.Key !== undefined) map[t.Key] = t.Value ?? ''
  return map
}

export interface InstanceTagValues {
  cluster: string
  role: 'head' | 'worker'
  engine: string
  index: number
  sshUser: string
  hostKey: string
  maxAge?: string
  volumeSize?: number
}

export function instanceTags(v: InstanceTagValues): Tag[] {
  const tags: Tag[] = [
    {Key: 'Name', Value: `cms-${v.cluster}-${v.index}`},
    {Key: TAG.cluster, Value: v.cluster},
    {Key: TAG.role, Value: v.role},
    {Key: TAG.engine, Value: v.engine},
    {Key: TAG.index, Value: String(v.index)},
    {Key: TAG.sshUser, Value: v.sshUser},
    {Key: TAG.hostKey, Value: v.hostKey},
  ]
  if (v.maxAge) tags.push({Key: TAG.maxAge, Value: v.maxAge})
  if (v.volumeSize) tags.push({Key: TAG.volumeSize, Value: String(v.volumeSize)})
  return tags
}

/** Tags for a cluster's security group, key pair and volumes: enough to find and delete them. */
export function clusterResourceTags(cluster: string): Tag[] {
  return [
    {Key: 'Name', Value: `cms-${cluster}`},
    {Key: TAG.cluster, Value: cluster},
  ]
}

export function tagSpecification(resourceType: TagSpecification['ResourceType'], tags: Tag[]): TagSpecification {
  return {ResourceType: resourceType, Tags: tags}
}
