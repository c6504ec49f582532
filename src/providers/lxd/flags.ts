import {Flags} from '@oclif/core'
import type {LxdLaunchInput} from './launch-options.js'
import type {LxdOptions} from './settings.js'

/** Which LXD daemon holds a cluster and how cms talks to it; every command that may touch an lxd cluster takes them. */
export const lxdFlags = {
  'lxd-socket': Flags.string({description: 'lxd: the local daemon\'s unix socket [default: $CMS_LXD_SOCKET, else $LXD_DIR/unix.socket, else /var/lib/lxd/unix.socket].', helpGroup: 'LXD'}),
  'lxd-remote': Flags.string({description: 'lxd: a remote daemon\'s HTTPS address, like https://lxd.example:8443 [default: $CMS_LXD_REMOTE].', helpGroup: 'LXD'}),
  'lxd-client-cert': Flags.string({description: 'lxd: client certificate the remote daemon trusts [default: ~/.config/lxc/client.crt].', helpGroup: 'LXD'}),
  'lxd-client-key': Flags.string({description: 'lxd: its private key [default: ~/.config/lxc/client.key].', helpGroup: 'LXD'}),
  'lxd-server-cert': Flags.string({description: 'lxd: the remote daemon\'s own certificate, trusted exactly [default: ~/.config/lxc/servercerts/HOST.crt].', helpGroup: 'LXD'}),
}

/** How `create -p lxd` makes instances. */
export const lxdLaunchFlags = {
  cpus: Flags.integer({description: 'lxd: CPUs of each host (limits.cpu) [default: no limit].', helpGroup: 'LXD'}),
  memory: Flags.string({description: 'lxd: memory of each host, like 2GiB or 512MiB (limits.memory) [default: no limit].', helpGroup: 'LXD'}),
  'lxd-image': Flags.string({description: 'lxd: image alias on the daemon (scripts/lxd-image.sh builds it) [default: cms-debian-12; -e kubernetes: cms-debian-12-k8s-host; with --vm cms-debian-12-vm].', helpGroup: 'LXD'}),
  vm: Flags.boolean({description: 'lxd: virtual machines instead of containers (the daemon must support them).', helpGroup: 'LXD'}),
}

export function lxdOptionsOf(flags: Readonly<Record<string, unknown>>): LxdOptions {
  return {
    socket: flags['lxd-socket'] as string | undefined,
    remote: flags['lxd-remote'] as string | undefined,
    clientCert: flags['lxd-client-cert'] as string | undefined,
    clientKey: flags['lxd-client-key'] as string | undefined,
    serverCert: flags['lxd-server-cert'] as string | undefined,
  }
}

/** `create`'s lxd flags as given (unchecked). */
export function lxdLaunchOptionsOf(flags: Readonly<Record<string, unknown>>): LxdLaunchInput {
  return {cpus: flags.cpus as number | undefined, memory: flags.memory as string | undefined, image: flags['lxd-image'] as string | undefined, vm: flags.vm as boolean | undefined}
}

export function lxdLaunchFlagsGiven(flags: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(lxdLaunchFlags).filter((name) => flags[name] !== undefined).map((name) => `--${name}`)
}
