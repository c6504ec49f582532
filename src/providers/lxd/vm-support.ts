import {VM_TYPE} from './instances.js'

/** The part of LXD's `GET /1.0` that says what the daemon can run. */
export interface LxdServerInfo {
  environment?: {instance_types?: string[]; driver?: string}
}

/**
 * Why the daemon cannot make virtual machines, or undefined when it reports that it can: LXD lists the instance types
 * its drivers can run on this machine in `environment.instance_types` (it checks /dev/kvm, the vhost_vsock module,
 * QEMU and the UEFI firmware when it starts).
 */
export function vmSupportProblem(info: LxdServerInfo, where: string): string | undefined {
  const types = info.environment?.instance_types ?? []
  if (types.includes(VM_TYPE)) return undefined
  const offers = types.length > 0 ? `it runs ${types.join(', ')} only` : 'it reports no instance types'
  return `--vm: the LXD daemon at ${where} cannot run virtual machines (${offers}; VMs need /dev/kvm, the vhost_vsock module, QEMU and OVMF on its machine)`
}
