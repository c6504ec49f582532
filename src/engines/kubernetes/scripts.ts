import {shJoin, shq} from '../../remote/shell.js'
import {componentFiles, type KubernetesLayout} from './layout.js'

/**
 * Pure builders of the scripts that run a cms Kubernetes cluster's processes on a host. There is no service manager
 * to rely on (containers, minimal hosts): each component (containerd, etcd, kube-apiserver, ...) runs in its own
 * session under nohup with a pid file and a log, like Nomad's agent.
 */

export const COMPONENTS = ['containerd', 'etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'] as const
export type Component = (typeof COMPONENTS)[number]

export function prepareDirsScript(l: KubernetesLayout): string {
  const dirs = [l.dir, l.pkiDir, l.secretsDir, l.kubeconfigDir, l.configDir, l.cniConfDir, l.logDir, l.pidDir, l.dataDir, l.runDir, l.kubeletRootDir, l.containerdRoot, l.cniDataDir]
  return `umask 077 && mkdir -p ${dirs.map(shq).join(' ')}`
}

/**
 * Starts a component unless it already runs with the same configuration (`configHash` covers its command line
 * and files); a changed configuration restarts it. Prints `running`, `started` or `restarted`.
 */
export function startComponentScript(l: KubernetesLayout, component: Component, argv: string[], configHash: string): string {
  if (argv.length === 0 || !argv[0]!.startsWith('/')) throw new Error(`${component} needs an absolute binary path`)
  if (!/^[A-Za-z0-9]{1,64}$/.test(configHash)) throw new Error('the configuration hash must be alphanumeric')
  const f = componentFiles(l, component)
  const hashFile = `${f.pid}.config-hash`
  return [
    'set -e',
    `pidf=${shq(f.pid)}`,
    'state=started',
    'if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then',
    `  if [ "$(cat ${shq(hashFile)} 2>/dev/null)" = ${shq(configHash)} ]; then echo running; exit 0; fi`,
    ...stopLines(f.pid, component === 'containerd' ? 30 : 20).map((s) => `  ${s}`),
    '  state=restarted',
    'fi',
    `cd ${shq(l.dir)}`,
    `nohup setsid ${shJoin(argv)} >> ${shq(f.log)} 2>&1 < /dev/null &`,
    'echo $! > "$pidf"',
    `printf '%s\\n' ${shq(configHash)} > ${shq(hashFile)}`,
    'sleep 0.5',
    `kill -0 "$(cat "$pidf")" 2>/dev/null || { tail -n 20 ${shq(f.log)} >&2; exit 5; }`,
    'echo "$state"',
  ].join('\n')
}

/** SIGTERM, then SIGKILL after `seconds`. */
function stopLines(pidFile: string, seconds: number): string[] {
  return [
    `p=$(cat ${shq(pidFile)} 2>/dev/null || true)`,
    `if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill -TERM "$p"; for _ in $(seq 1 ${seconds * 2}); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done; kill -9 "$p" 2>/dev/null || true; fi`,
    `rm -f ${shq(pidFile)}`,
  ]
}

/** Stops components in the reverse order of COMPONENTS (kubelet and kube-proxy first, containerd last). */
export function stopComponentsScript(l: KubernetesLayout, components: readonly Component[] = COMPONENTS): string {
  const ordered = [...COMPONENTS].reverse().filter((c) => components.includes(c))
  return ordered.flatMap((c) => stopLines(componentFiles(l, c).pid, c === 'containerd' ? 30 : 20)).join('\n')
}
