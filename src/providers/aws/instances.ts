import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  type DescribeInstancesCommandOutput,
  type Filter,
  type Instance,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  type RunInstancesCommandOutput,
  StartInstancesCommand,
  type Tag,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2'
import {AwsError, type Ec2Api} from './client.js'
import {clusterResourceTags, tagSpecification} from './tags.js'

/** Everything about one host to launch; built from flags (create) or from the cluster's hosts (add). */
export interface LaunchSpec {
  imageId: string
  instanceType: string
  keyName: string
  securityGroupId: string
  subnetId?: string
  userData: string
  tags: Tag[]
  cluster: string
  clientToken: string
  spot: boolean
  volumeSizeGb?: number
  /** The image's root device (for --volume-size). */
  rootDeviceName?: string
}

/** RunInstances for one host: IMDSv2 only (the user data holds the host's private key), tags on instance and disk. */
export function runInstancesInput(spec: LaunchSpec): RunInstancesCommandInput {
  const input: RunInstancesCommandInput = {
    ImageId: spec.imageId,
    InstanceType: spec.instanceType as RunInstancesCommandInput['InstanceType'],
    MinCount: 1,
    MaxCount: 1,
    KeyName: spec.keyName,
    SecurityGroupIds: [spec.securityGroupId],
    UserData: Buffer.from(spec.userData).toString('base64'),
    ClientToken: spec.clientToken,
    MetadataOptions: {HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1},
    TagSpecifications: [tagSpecification('instance', spec.tags), tagSpecification('volume', clusterResourceTags(spec.cluster))],
  }
  if (spec.subnetId) input.SubnetId = spec.subnetId
  if (spec.spot) {
    input.InstanceMarketOptions = {MarketType: 'spot', SpotOptions: {SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate'}}
  }
  if (spec.volumeSizeGb) {
    input.BlockDeviceMappings = [
      {DeviceName: spec.rootDeviceName ?? '/dev/xvda', Ebs: {VolumeSize: spec.volumeSizeGb, VolumeType: 'gp3', DeleteOnTermination: true}},
    ]
  }
  return input
}

export async function describeInstances(api: Ec2Api, input: {Filters?: Filter[]; InstanceIds?: string[]}): Promise<Instance[]> {
  const instances: Instance[] = []
  let NextToken: string | undefined
  for (let page = 0; page < 100; page++) {
    const out = await api.send<DescribeInstancesCommandOutput>(new DescribeInstancesCommand({...input, NextToken}))
    for (const r of out.Reservations ?? []) instances.push(...(r.Instances ?? []))
    NextToken = out.NextToken
    if (!NextToken) break
  }
  return instances
}

export async function launchInstance(api: Ec2Api, spec: LaunchSpec): Promise<Instance> {
  const out = await api.send<RunInstancesCommandOutput>(new RunInstancesCommand(runInstancesInput(spec)))
  const instance = out.Instances?.[0]
  if (!instance?.InstanceId) throw new AwsError('RunInstances returned no instance')
  return instance
}

export async function startInstances(api: Ec2Api, ids: string[]): Promise<void> {
  for (const batch of chunks(ids, 1000)) await api.send(new StartInstancesCommand({InstanceIds: batch}))
}

/** One TerminateInstances call per 1000 instances (EC2's limit per call). */
export async function terminateInstances(api: Ec2Api, ids: string[]): Promise<void> {
  for (const batch of chunks(ids, 1000)) await api.send(new TerminateInstancesCommand({InstanceIds: batch}))
}

export async function tagResources(api: Ec2Api, ids: string[], tags: Tag[]): Promise<void> {
  for (const batch of chunks(ids, 1000)) await api.send(new CreateTagsCommand({Resources: batch, Tags: tags}))
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Polls until every instance is in `want` (one DescribeInstances per round for all of them). Fails at once when
 * one can no longer get there (a host that should run was terminated: spot capacity, a bad image), naming why.
 */
export async function waitForState(
  api: Ec2Api,
  ids: string[],
  want: 'running' | 'terminated',
  timeoutMs: number,
): Promise<Instance[]> {
  if (ids.length === 0) return []
  const deadline = Date.now() + timeoutMs
  let delay = 1000
  let last: Instance[] = []
  for (let round = 0; round < 1000; round++) {
    try {
      last = await describeInstances(api, {InstanceIds: ids})
    } catch (error) {
      // Just after RunInstances an id may not be visible yet (EC2 is eventually consistent).
      if ((error as AwsError).code !== 'InvalidInstanceID.NotFound') throw error
      last = []
    }
    if (want === 'running') {
      const dead = last.find((i) => ['shutting-down', 'terminated'].includes(i.State?.Name ?? ''))
      if (dead) throw new AwsError(`instance ${dead.InstanceId} was terminated while starting: ${dead.StateReason?.Message || dead.StateTransitionReason || 'no reason given'}`)
    }
    // Terminated instances may vanish from DescribeInstances: an id no longer listed is terminated too.
    const done = want === 'terminated' ? ids.every((id) => last.every((i) => i.InstanceId !== id || i.State?.Name === 'terminated')) : last.length === ids.length && last.every((i) => i.State?.Name === want)
    if (done) return last
    if (Date.now() + delay > deadline) break
    await sleep(delay)
    delay = Math.min(delay * 2, 8000)
  }
  const pending = last.filter((i) => i.State?.Name !== want).map((i) => `${i.InstanceId} ${i.State?.Name}`)
  throw new AwsError(`instances did not become ${want} within ${Math.round(timeoutMs / 1000)} s: ${pending.join(', ') || ids.join(', ')}`)
}
