import {shq} from '../../remote/shell.js'

/**
 * What a host must have that cms does not ship (the Kubernetes binaries it does ship): a container runtime, the CNI
 * plugins, iptables, a static pause binary, a static busybox, and etcd on the head. Debian/Ubuntu package names go in the message, so
 * the user is told exactly what to install. images/k8s-host carries all of them.
 */

export interface Prerequisite {
  /** What is checked, as the user reads it. */
  name: string
  /** Any of these paths or commands (a name without a slash is looked up on PATH). */
  anyOf: string[]
  /** The Debian/Ubuntu package that provides it. */
  debianPackage: string
  headOnly?: boolean
}

export const PREREQUISITES: readonly Prerequisite[] = [
  {name: 'containerd', anyOf: ['containerd'], debianPackage: 'containerd'},
  {name: 'ctr', anyOf: ['ctr'], debianPackage: 'containerd'},
  {name: 'runc', anyOf: ['runc', '/usr/sbin/runc'], debianPackage: 'runc'},
  {name: 'CNI bridge plugin', anyOf: ['/usr/lib/cni/bridge', '/opt/cni/bin/bridge'], debianPackage: 'containernetworking-plugins'},
  {name: 'CNI host-local plugin', anyOf: ['/usr/lib/cni/host-local', '/opt/cni/bin/host-local'], debianPackage: 'containernetworking-plugins'},
  {name: 'CNI loopback plugin', anyOf: ['/usr/lib/cni/loopback', '/opt/cni/bin/loopback'], debianPackage: 'containernetworking-plugins'},
  {name: 'CNI portmap plugin', anyOf: ['/usr/lib/cni/portmap', '/opt/cni/bin/portmap'], debianPackage: 'containernetworking-plugins'},
  {name: 'iptables', anyOf: ['iptables', '/usr/sbin/iptables'], debianPackage: 'iptables'},
  {name: 'ip', anyOf: ['ip', '/usr/sbin/ip', '/sbin/ip'], debianPackage: 'iproute2'},
  {name: 'catatonit (the pods\' pause process)', anyOf: ['/usr/bin/catatonit', '/usr/libexec/catatonit/catatonit'], debianPackage: 'catatonit'},
  {name: 'busybox (the local-path volumes\' helper shell)', anyOf: ['/bin/busybox'], debianPackage: 'busybox-static'},
  {name: 'etcd', anyOf: ['etcd', '/usr/bin/etcd'], debianPackage: 'etcd-server', headOnly: true},
]

/**
 * Prints one line per missing prerequisite, `missing NAME (Debian package PKG)`, and nothing when all are there;
 * then the CNI plugin folder found, as `cni-bin DIR`. Exit code 0 either way: the caller decides.
 */
export function prerequisitesScript(opts: {head: boolean}): string {
  const lines: string[] = ['have() { case "$1" in */*) [ -x "$1" ] ;; *) command -v "$1" >/dev/null 2>&1 ;; esac; }']
  for (const p of PREREQUISITES) {
    if (p.headOnly && !opts.head) continue
    const test = p.anyOf.map((a) => `have ${shq(a)}`).join(' || ')
    lines.push(`${test} || echo ${shq(`missing ${p.name} (Debian package ${p.debianPackage})`)}`)
  }
  lines.push('for d in /usr/lib/cni /opt/cni/bin; do [ -x "$d/bridge" ] && { echo "cni-bin $d"; break; }; done', 'exit 0')
  return lines.join('\n')
}

export interface PrerequisiteReport {
  missing: string[]
  /** The folder of the CNI plugins (containerd's bin_dir), when found. */
  cniBinDir?: string
}

export function parsePrerequisites(output: string): PrerequisiteReport {
  const missing: string[] = []
  let cniBinDir: string | undefined
  for (const line of output.split('\n')) {
    if (line.startsWith('missing ')) missing.push(line.slice('missing '.length))
    else if (line.startsWith('cni-bin ')) cniBinDir = line.slice('cni-bin '.length)
  }
  return {missing, cniBinDir}
}

/** One line for the user: what is missing on which host, and the packages that provide it. */
export function describeMissing(host: string, report: PrerequisiteReport): string | undefined {
  if (report.missing.length === 0) return undefined
  const packages = [...new Set(report.missing.map((m) => /\(Debian package ([^)]+)\)$/.exec(m)?.[1]).filter(Boolean))]
  const names = report.missing.map((m) => m.replace(/ \(Debian package [^)]+\)$/, ''))
  return `${host} lacks ${names.join(', ')}: install ${packages.join(' ')} (Debian/Ubuntu packages)`
}
