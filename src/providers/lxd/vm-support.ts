import {VM_TYPE} from './instances.js'

/** The part of LXD's `GET /1.0` that says what the daemon can run. */
export interface LxdServerInfo {
  environment?: {instance_types?: string[]; driver?: string}
}

/**
 * The instance types the daemon runs on its machine, as it checked when it started (/dev/kvm, the vhost_vsock
 * module, QEMU and the UEFI firmware for VMs): `environment.instance_types` where the daemon has it (later LXD,
 * Incus), else its operational drivers (`environment.driver`, "lxc | qemu" in LXD 5.0): lxc runs containers, qemu VMs.
 */
export function instanceTypesOf(info: LxdServerInfo): string[] {
  if (info.environment?.instance_types) return info.environment.instance_types
  const drivers = (info.environment?.driver ?? '').split('|').map((d) => d.trim())
  return [...(drivers.includes('lxc') ? ['container'] : []), ...(drivers.includes('qemu') ? [VM_TYPE] : [])]
}

/** Why the daemon cannot make virtual machines, or undefined when it reports that it can. */
export function vmSupportProblem(info: LxdServerInfo, where: string): string | undefined {
  const types = instanceTypesOf(info)
  if (types.includes(VM_TYPE)) return undefined
  const offers = types.length > 0 ? `it runs ${types.join(', ')} instances only` : 'it reports no instance types'
  return `--vm: the LXD daemon at ${where} cannot run virtual machines (${offers}; VMs need /dev/kvm, the vhost_vsock module, QEMU and OVMF on its machine)`
}
