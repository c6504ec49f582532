import type {Instance} from '@aws-sdk/client-ec2'
import {recordedMaxAge} from '../../cluster/max-age.js'
import {type CloudInstances, clusterAgeOf, groupIntoClusters, headFirst, type InstanceAge, type InstanceLabels} from '../cloud-clusters.js'
import type {ClusterSummary, Host} from '../provider.js'
import type {ConnectVia} from './settings.js'
import {TAG, tagMap} from './tags.js'

/** Debian's cloud images log in as `admin`; cms names cloud-init's default user so on any image. */
export const DEFAULT_SSH_USER = 'admin'

/** Where cms connects: the public address unless asked for the private one, or when there is no public one. */
export function connectAddress(instance: Instance, via: ConnectVia): string | undefined {
  if (via === 'private') return instance.PrivateIpAddress || undefined
  return instance.PublicIpAddress || instance.PrivateIpAddress || undefined
}

const EC2_TAGS: InstanceLabels<Instance> = {labels: (i) => tagMap(i.Tags), keys: TAG}

const EC2_AGE: InstanceAge<Instance> = {launchedAt: (i) => i.LaunchTime?.getTime(), maxAge: (i) => tagMap(i.Tags)[TAG.maxAge]}

/** EC2 instances as `list` reads them; `via`: the address cms connects to. */
export function ec2Instances(via: ConnectVia): CloudInstances<Instance> {
  return {
    ...EC2_TAGS,
    provider: 'aws',
    id: (i) => i.InstanceId ?? '',
    running: (i) => i.State?.Name === 'running',
    connectAddress: (i) => connectAddress(i, via),
    age: EC2_AGE,
  }
}

/** One instance as a cms host: the engine binds to its private IP, where the other hosts reach it. */
export function hostFromInstance(instance: Instance, via: ConnectVia, keyFile: string): Host {
  const tags = tagMap(instance.Tags)
  const address = connectAddress(instance, via)
  const state = instance.State?.Name
  return {
    id: instance.InstanceId ?? '',
    role: tags[TAG.role] === 'head' ? 'head' : 'worker',
    target: {host: address ?? '', port: 22, user: tags[TAG.sshUser] || DEFAULT_SSH_USER, identityFiles: [keyFile]},
    privateAddress: instance.PrivateIpAddress || undefined,
    state: state === 'running' && address ? 'running' : state === 'stopped' || state === 'stopping' ? 'stopped' : 'unknown',
    cloud: {
      instanceType: instance.InstanceType ?? 'unknown',
      lifecycle: instance.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand',
      launchedAt: (instance.LaunchTime ?? new Date(0)).toISOString(),
      zone: instance.Placement?.AvailabilityZone,
      maxAgeSeconds: recordedMaxAge(tags[TAG.maxAge]),
    },
  }
}

/** Head first, then by index. */
export function sortInstances(instances: Instance[]): Instance[] {
  return headFirst(instances, EC2_TAGS)
}

/** A cluster's age and max age, from its instances' launch times and cms-max-age tags. */
export function clusterAge(instances: Instance[], now: Date): Pick<ClusterSummary, 'ageSeconds' | 'maxAgeSeconds' | 'expired'> {
  return clusterAgeOf(instances, EC2_AGE, now)
}

/** Groups every cms instance of a region (one DescribeInstances) into clusters, sorted by name. */
export function groupClusters(instances: Instance[], via: ConnectVia, now: Date): Array<{summary: ClusterSummary; instances: Instance[]}> {
  return groupIntoClusters(instances, ec2Instances(via), now)
}
