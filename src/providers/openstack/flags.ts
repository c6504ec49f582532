import {Flags} from '@oclif/core'

/** Which OpenStack cloud holds a cluster; every command that may touch an openstack cluster takes it. */
export const openstackFlags = {
  'os-cloud': Flags.string({description: 'openstack: the cloud of clouds.yaml to use [default: the cluster\'s, else $OS_CLOUD, else the OS_* environment].', helpGroup: 'OPENSTACK'}),
}

/**
 * How `create -p openstack` launches servers. --ssh-cidr, --ssh-user and --max-age mean the same as on aws and are
 * the aws flags (see launchFlagsOf).
 */
export const openstackLaunchFlags = {
  flavor: Flags.string({description: 'openstack: flavor (name or id) of every host [default: the smallest with 2 vCPUs and 4 GiB].', helpGroup: 'OPENSTACK'}),
  image: Flags.string({description: 'openstack: image (name or id) [default: the newest Debian 12 image visible].', helpGroup: 'OPENSTACK'}),
  network: Flags.string({description: 'openstack: network (name or id) of the hosts [default: the only one of the project that is not external].', helpGroup: 'OPENSTACK'}),
  'floating-ip': Flags.string({
    description: 'openstack: give every host a floating IP from this external network (name or id) and reach it there; for a --network this machine cannot route to. Needs --ssh-cidr.',
    helpGroup: 'OPENSTACK',
  }),
}

/** The flags `create -p openstack` shares with aws (same names, same meaning). */
export const SHARED_LAUNCH_FLAGS = ['ssh-cidr', 'ssh-user', 'max-age'] as const

export interface OpenStackLaunchFlags {
  flavor?: string
  image?: string
  network?: string
  floatingIp?: string
  sshCidr?: string
  sshUser?: string
  maxAge?: string
}

export function openstackLaunchOptionsOf(flags: Readonly<Record<string, unknown>>): OpenStackLaunchFlags {
  return {
    flavor: flags.flavor as string | undefined,
    image: flags.image as string | undefined,
    network: flags.network as string | undefined,
    floatingIp: flags['floating-ip'] as string | undefined,
    sshCidr: flags['ssh-cidr'] as string | undefined,
    sshUser: flags['ssh-user'] as string | undefined,
    maxAge: flags['max-age'] as string | undefined,
  }
}

/** Given create flags that only openstack (and, for the shared ones, aws) takes, by name. */
export function openstackLaunchFlagsGiven(flags: Readonly<Record<string, unknown>>): string[] {
  return [...Object.keys(openstackLaunchFlags), ...SHARED_LAUNCH_FLAGS].filter((name) => flags[name] !== undefined).map((name) => `--${name}`)
}
