import type {ContainerNeeds} from '../provider.js'

/** What an engine's ContainerNeeds add to an LXD container: config keys, devices, and the image it is made from. */
export interface LxdContainerSetup {
  config: Record<string, string>
  devices: Record<string, Record<string, string>>
  /** The image variant (cms-debian-12-VARIANT) the engine's hosts are made from, when it needs one. */
  imageVariant?: string
}

/**
 * An LXD container is unprivileged by default: its root holds every capability, but only inside its own user
 * namespace, which is all a Nomad client (SYS_ADMIN, its cgroup subtree: LXD gives each container a cgroup namespace)
 * needs. An engine that asks for every capability (a Kubernetes node: device cgroups for runc, mounts over /proc/sys,
 * /dev/kmsg) gets what docker gives its node containers: a privileged container, nested containers allowed, the
 * devices it names. LXD keeps /proc/sys read-only in it but /proc/sys/net, so the node can change no machine-wide
 * setting by writing (the engine shadows the ones the kubelet writes) and systemd inside changes none at boot.
 */
export function lxdContainerSetup(needs: ContainerNeeds | undefined): LxdContainerSetup {
  const config: Record<string, string> = {}
  const devices: Record<string, Record<string, string>> = {}
  if (needs?.capAdd?.includes('ALL')) {
    config['security.privileged'] = 'true'
    config['security.nesting'] = 'true'
  }
  for (const path of needs?.devices ?? []) {
    if (!/^\/dev\/[a-z0-9]+$/.test(path)) throw new Error(`not a device node: ${JSON.stringify(path)}`)
    devices[path.slice('/dev/'.length)] = {type: 'unix-char', source: path, path}
  }
  return {config, devices, ...(needs?.imageVariant ? {imageVariant: needs.imageVariant} : {})}
}
