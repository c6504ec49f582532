import {shq} from '../../remote/shell.js'

/**
 * Kernel settings a node's pod network needs, set by cms before containerd starts. A pod reaches a Service whose
 * pod is on its own node only if bridged traffic passes iptables (br_netfilter with bridge-nf-call-iptables): the
 * reply crosses the node's bridge directly, and without it kube-proxy's DNAT is never undone on the way back (cluster
 * DNS from a pod on CoreDNS's node times out). The node routes pod traffic between hosts (ip_forward). A Debian
 * cloud image has neither; hosts that run Docker have both (dockerd loads br_netfilter). Only the running kernel is
 * changed: after a reboot the node's components do not come back by themselves either, and `create` again sets both.
 */
export interface KernelSetting {
  key: string
  value: string
  /** The module that provides the setting, loaded when the setting is not there. */
  module?: string
}

export const NODE_KERNEL_SETTINGS: readonly KernelSetting[] = [
  {key: 'net.bridge.bridge-nf-call-iptables', value: '1', module: 'br_netfilter'},
  {key: 'net.ipv4.ip_forward', value: '1'},
]

/**
 * Loads a missing setting's module, writes each setting that differs, and prints one line per setting it could not
 * make right: `missing KEY MODULE` (no such setting after modprobe) or `unset KEY` (it would not take the value).
 * Nothing when all are right. Exit code 0 either way: the caller decides.
 */
export function kernelSettingsScript(settings: readonly KernelSetting[] = NODE_KERNEL_SETTINGS, procSys = '/proc/sys'): string {
  const lines: string[] = []
  for (const s of settings) {
    if (!/^[a-z0-9_.-]+$/.test(s.key) || !/^[0-9]+$/.test(s.value) || (s.module !== undefined && !/^[a-z0-9_]+$/.test(s.module))) throw new Error(`not a kernel setting: ${JSON.stringify(s)}`)
    const path = shq(`${procSys}/${s.key.replaceAll('.', '/')}`)
    if (s.module) lines.push(`[ -e ${path} ] || modprobe ${s.module} 2>/dev/null || true`)
    lines.push(
      `if [ ! -e ${path} ]; then echo "missing ${s.key} ${s.module ?? '-'}"`,
      `elif [ "$(cat ${path} 2>/dev/null)" != ${s.value} ]; then echo ${s.value} > ${path} 2>/dev/null; [ "$(cat ${path} 2>/dev/null)" = ${s.value} ] || echo "unset ${s.key}"; fi`,
    )
  }
  lines.push('exit 0')
  return lines.join('\n')
}

/** One line for the user naming what the host's kernel lacks and what to do, or undefined when all is set. */
export function describeKernelSettings(host: string, output: string, settings: readonly KernelSetting[] = NODE_KERNEL_SETTINGS): string | undefined {
  const problems: string[] = []
  for (const line of output.split('\n')) {
    const [word, key, module] = line.trim().split(' ')
    const setting = settings.find((s) => s.key === key)
    if (!setting) continue
    if (word === 'missing') {
      problems.push(module && module !== '-' ? `its kernel has no ${key}: load the ${module} module there (modprobe ${module}; for a container, on the machine that runs it)` : `its kernel has no ${key}`)
    } else if (word === 'unset') {
      problems.push(`${key} could not be set to ${setting.value} (set it there: sysctl -w ${key}=${setting.value})`)
    }
  }
  return problems.length === 0 ? undefined : `${host}: Kubernetes' pod network needs kernel settings: ${problems.join('; ')}`
}
