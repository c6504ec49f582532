import {DescribeSubnetsCommand, type DescribeSubnetsCommandOutput, DescribeVpcsCommand, type DescribeVpcsCommandOutput} from '@aws-sdk/client-ec2'
import {AwsError, AwsInputError, type Ec2Api} from './client.js'

export interface Placement {
  vpcId: string
  vpcCidr?: string
  /** Undefined: EC2 picks a default subnet of the default VPC (for the head; workers follow the head's). */
  subnetId?: string
}

/** The VPC the cluster lives in: the --subnet's, else the region's default VPC. */
export async function findPlacement(api: Ec2Api, subnetId?: string): Promise<Placement> {
  if (subnetId) {
    const out = await api.send<DescribeSubnetsCommandOutput>(new DescribeSubnetsCommand({SubnetIds: [subnetId]}))
    const subnet = out.Subnets?.[0]
    if (!subnet?.VpcId) throw new AwsInputError(`subnet ${subnetId} not found in ${api.settings.region}`, 'InvalidSubnetID.NotFound')
    const vpcs = await api.send<DescribeVpcsCommandOutput>(new DescribeVpcsCommand({VpcIds: [subnet.VpcId]}))
    return {vpcId: subnet.VpcId, vpcCidr: vpcs.Vpcs?.[0]?.CidrBlock, subnetId}
  }
  const out = await api.send<DescribeVpcsCommandOutput>(new DescribeVpcsCommand({Filters: [{Name: 'is-default', Values: ['true']}]}))
  const vpc = out.Vpcs?.[0]
  if (!vpc?.VpcId) throw new AwsInputError(`there is no default VPC in ${api.settings.region}: pass --subnet`, 'NoDefaultVpc')
  return {vpcId: vpc.VpcId, vpcCidr: vpc.CidrBlock}
}

/**
 * This machine's public IPv4 address as AWS sees it (checkip.amazonaws.com, as Flintrock does), as a /32:
 * the only address the security group lets SSH in from unless --ssh-cidr says otherwise.
 */
export async function publicAddressCidr(url = 'https://checkip.amazonaws.com'): Promise<string> {
  let text: string
  try {
    const res = await fetch(url, {signal: AbortSignal.timeout(10_000)})
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    text = (await res.text()).trim()
  } catch (error) {
    throw new AwsError(`cannot find this machine's public address (${url}: ${(error as Error).message}): pass --ssh-cidr`)
  }
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) throw new AwsError(`${url} did not answer with an IPv4 address: pass --ssh-cidr`)
  return `${text}/32`
}
