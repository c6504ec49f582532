import {Flags} from '@oclif/core'
import type {CloudLaunchOptions} from '../provider.js'
import type {AwsOptions} from './settings.js'

/** Where an aws cluster lives and how cms reaches it; every command that may touch an aws cluster takes them. */
export const awsFlags = {
  region: Flags.string({description: 'aws: region [default: the cluster\'s, else AWS_REGION, AWS_DEFAULT_REGION, the profile\'s].', helpGroup: 'AWS'}),
  profile: Flags.string({description: 'aws: named profile of ~/.aws/config and ~/.aws/credentials [default: AWS_PROFILE, else the default chain].', helpGroup: 'AWS'}),
  connect: Flags.string({
    description: 'aws: reach instances by their public or private address (private: from a bastion, a VPN or CI inside the VPC) [default: $CMS_AWS_CONNECT, else public].',
    options: ['public', 'private'],
    helpGroup: 'AWS',
  }),
}

/** How `create -p aws` launches instances. */
export const awsLaunchFlags = {
  'instance-type': Flags.string({description: 'aws: instance type of every host [default: m6i.large].', helpGroup: 'AWS'}),
  'head-instance-type': Flags.string({description: 'aws: instance type of the head [default: --instance-type].', helpGroup: 'AWS'}),
  ami: Flags.string({description: 'aws: image id [default: the newest Debian 12 image from Debian\'s own account].', helpGroup: 'AWS'}),
  subnet: Flags.string({description: 'aws: subnet id [default: a default subnet of the default VPC; workers join the head\'s].', helpGroup: 'AWS'}),
  'volume-size': Flags.integer({description: 'aws: root disk of each host in GiB [default: the image\'s].', helpGroup: 'AWS'}),
  spot: Flags.boolean({description: 'aws: spot instances (cheaper; AWS may take them back).', helpGroup: 'AWS'}),
  'ssh-cidr': Flags.string({description: 'aws, openstack: who may reach SSH [default aws: this machine\'s public address /32, with --connect private the VPC\'s range; openstack: the range of the hosts\' subnet].', helpGroup: 'AWS'}),
  'ssh-user': Flags.string({description: 'aws, openstack: the user cms logs in as (cloud-init\'s default user) [default: admin on aws, debian on openstack].', helpGroup: 'AWS'}),
  'max-age': Flags.string({description: 'aws, openstack: the cluster\'s lifetime, like 8h or 2d: `cluster list` flags it after that and `cluster reap` kills it.', helpGroup: 'AWS'}),
}

/** --region, --profile, --connect as given. */
export function awsOptionsOf(flags: Readonly<Record<string, unknown>>): AwsOptions {
  return {region: flags.region as string | undefined, profile: flags.profile as string | undefined, connect: flags.connect as string | undefined}
}

/** `create`'s aws flags as launch options (unchecked). */
export function launchOptionsOf(flags: Readonly<Record<string, unknown>>): CloudLaunchOptions {
  return {
    instanceType: flags['instance-type'] as string | undefined,
    headInstanceType: flags['head-instance-type'] as string | undefined,
    image: flags.ami as string | undefined,
    subnet: flags.subnet as string | undefined,
    volumeSizeGb: flags['volume-size'] as number | undefined,
    spot: flags.spot as boolean | undefined,
    sshCidr: flags['ssh-cidr'] as string | undefined,
    sshUser: flags['ssh-user'] as string | undefined,
    maxAge: flags['max-age'] as string | undefined,
  }
}
