import {shJoin, shq} from '../../remote/shell.js'
import {OWN_PROCESS_FUNCTION, releaseCmsHomeScript} from '../host-scripts.js'
import {componentFiles, type KubernetesLayout} from './layout.js'
import {DEFAULT_POD_CIDR} from './network.js'
import {CNI_NETWORK_NAME, DEFAULT_BRIDGE, MASQUERADE_COMMENT, podCidrPrefixRegex, podNetworkCleanupScript} from './pod-network.js'

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
  if (argv[0]!.split('/').pop() !== component) throw new Error(`${component} must run its own binary, not ${argv[0]}`)
  const f = componentFiles(l, component)
  const hashFile = `${f.pid}.config-hash`
  return [
    'set -e',
    OWN_PROCESS_FUNCTION,
    `pidf=${shq(f.pid)}`,
    'state=started',
    `if [ -f "$pidf" ] && ours "$(cat "$pidf")" ${component}; then`,
    `  if [ "$(cat ${shq(hashFile)} 2>/dev/null)" = ${shq(configHash)} ]; then echo running; exit 0; fi`,
    ...stopLines(f.pid, component).map((s) => `  ${s}`),
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

/** SIGTERM, then SIGKILL after 20 s (containerd 30 s), to the component's own process only (needs `ours`). */
function stopLines(pidFile: string, component: Component): string[] {
  const seconds = component === 'containerd' ? 30 : 20
  return [
    `p=$(cat ${shq(pidFile)} 2>/dev/null || true)`,
    `if [ -n "$p" ] && ours "$p" ${component}; then kill -TERM "$p"; for _ in $(seq 1 ${seconds * 2}); do ours "$p" ${component} || break; sleep 0.5; done; ours "$p" ${component} && kill -9 "$p" 2>/dev/null || true; fi`,
    `rm -f ${shq(pidFile)}`,
  ]
}

/** Stops components in the reverse order of COMPONENTS (kubelet and kube-proxy first, containerd last). */
export function stopComponentsScript(l: KubernetesLayout, components: readonly Component[] = COMPONENTS): string {
  const ordered = [...COMPONENTS].reverse().filter((c) => components.includes(c))
  return [OWN_PROCESS_FUNCTION, ...ordered.flatMap((c) => stopLines(componentFiles(l, c).pid, c))].join('\n')
}

export interface CleanupInput {
  /** The remote user's home (~/.cms goes once no cluster uses the host). */
  home: string
  /** Where the Kubernetes binaries are (kube-proxy --cleanup removes its iptables chains). */
  binDir?: string
  podCidr?: string
  bridge?: string
}

/**
 * Stops everything of the cluster on a host and removes what it left (kill, remove): the components, every pod
 * (containerd tasks killed and deleted before containerd stops; stray shims of cms's containerd), kube-proxy's
 * iptables chains, the pods' network namespaces (those holding an address of the pod network), the bridge, routes
 * and masquerade rule, the CNI result cache, the mounts under cms's data and run folders (pod volumes, sandbox
 * shm, container rootfs), the kubelet's cgroups, and the folders themselves; then ~/.cms if no cluster is left.
 */
export function cleanupScript(l: KubernetesLayout, input: CleanupInput): string {
  const podCidr = input.podCidr ?? DEFAULT_POD_CIDR
  const pods = podCidrPrefixRegex(podCidr)
  const ctr = `ctr --address "$sock" -n k8s.io`
  return [
    `if [ -d ${shq(l.clusterDir)} ] || [ -d ${shq(l.dataDir)} ] || [ -d ${shq(l.runDir)} ]; then`,
    // The kubelet first (it would restart pods), then the pods (they hold watches the API server would wait for
    // on its way down), then the control plane, containerd last.
    ...stopComponentsScript(l, ['kubelet', 'kube-proxy'])
      .split('\n')
      .map((s) => `  ${s}`),
    // The socket path assembled at run time: this script's own command line must not match the pkill below.
    `  sock="$(dirname ${shq(l.containerdState)})/containerd/containerd.sock"`,
    '  if [ -S "$sock" ] && command -v ctr >/dev/null 2>&1; then',
    `    for t in $(${ctr} tasks ls -q 2>/dev/null); do ${ctr} tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done`,
    `    for _ in $(seq 1 20); do [ -z "$(${ctr} tasks ls 2>/dev/null | awk 'NR > 1 && $3 != "STOPPED"')" ] && break; sleep 0.5; done`,
    `    for t in $(${ctr} tasks ls -q 2>/dev/null); do ${ctr} tasks delete -f "$t" >/dev/null 2>&1 || true; done`,
    `    for c in $(${ctr} containers ls -q 2>/dev/null); do ${ctr} containers delete "$c" >/dev/null 2>&1 || true; done`,
    '  fi',
    ...stopComponentsScript(l, ['kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'])
      .split('\n')
      .map((s) => `  ${s}`),
    ...stopComponentsScript(l, ['containerd'])
      .split('\n')
      .map((s) => `  ${s}`),
    `  pkill -9 -f -- "[c]ontainerd-shim.* -address $sock" 2>/dev/null || true`,
    ...(input.binDir ? [`  [ -x ${shq(`${input.binDir}/kube-proxy`)} ] && ${shq(`${input.binDir}/kube-proxy`)} --cleanup >/dev/null 2>&1 || true`] : []),
    '  for ns in /run/netns/cni-*; do',
    '    [ -e "$ns" ] || continue',
    `    if ip netns exec "\${ns##*/}" ip -4 -o addr show 2>/dev/null | grep -Eq ' inet ${pods}'; then ip netns delete "\${ns##*/}" 2>/dev/null || umount "$ns" 2>/dev/null; rm -f "$ns"; fi`,
    '  done',
    ...podNetworkCleanupScript({podCidr, bridge: input.bridge})
      .split('\n')
      .map((s) => `  ${s}`),
    ...KUBE_CHAINS_CLEANUP.map((line) => `  ${line}`),
    // The CNI result cache of the pods' networks, and what the kubelet and containerd 1.6 put in fixed places
    // whatever their configured folders (the device-plugin socket, the shims' sockets); folders only when empty.
    `  rm -f /var/lib/cni/results/${CNI_NETWORK_NAME}-* /var/lib/cni/results/cni-loopback-* /var/lib/kubelet/device-plugins/kubelet.sock 2>/dev/null || true`,
    '  rmdir /var/lib/cni/results /var/lib/cni /var/lib/kubelet/device-plugins /var/lib/kubelet /run/containerd/s /run/containerd /run/netns 2>/dev/null || true',
    `  ${folderVars(l)}`,
    `  awk -v d="$d" -v r="$r" 'index($5, d) == 1 || index($5, r) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done`,
    `  for g in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do [ -d "$g" ] && find "$g" -depth -type d -exec rmdir {} \\; 2>/dev/null; done; true`,
    `  rm -rf ${shq(l.clusterDir)} ${shq(l.dataDir)} ${shq(l.runDir)}`,
    `  rmdir ${shq(dirname(l.dataDir))} ${shq(dirname(l.runDir))} 2>/dev/null || true`,
    'fi',
    releaseCmsHomeScript(input.home),
    'exit 0',
  ].join('\n')
}

/**
 * Kubernetes' own iptables rules (kube-proxy's services, the kubelet's KUBE-FIREWALL and canary chains), IPv4 and
 * IPv6: the jumps into KUBE-* chains from the built-in chains, then the chains. A host of a cms cluster runs no
 * other Kubernetes (the kubelet's port would clash), so every KUBE-* chain is the cluster's.
 */
const KUBE_CHAINS_CLEANUP = [
  'for ipt in iptables ip6tables; do',
  '  command -v "$ipt" >/dev/null 2>&1 || continue',
  '  for t in filter nat mangle raw; do',
  '    "$ipt" -t "$t" -S 2>/dev/null | grep -E \'^-A [A-Z_]+ .*-j KUBE-\' | grep -v \'^-A KUBE-\' | sed \'s/^-A /-D /\' | while read -r rule; do eval "\"\$ipt\" -t \"\$t\" $rule" 2>/dev/null || true; done',
  '    chains=$("$ipt" -t "$t" -S 2>/dev/null | awk \'$1 == "-N" && $2 ~ /^KUBE-/ {print $2}\')',
  '    for ch in $chains; do "$ipt" -t "$t" -F "$ch" 2>/dev/null || true; done',
  '    for ch in $chains; do "$ipt" -t "$t" -X "$ch" 2>/dev/null || true; done',
  '  done',
  'done',
]

/**
 * What is left of the cluster on a host, one count per line as `what count`: processes (components, shims, pods),
 * mounts under its folders, pod network namespaces, its bridge, kube-proxy chains, kubelet cgroups, folders.
 */
export function leftoverScript(l: KubernetesLayout, input: {podCidr?: string; bridge?: string} = {}): string {
  const pods = podCidrPrefixRegex(input.podCidr ?? DEFAULT_POD_CIDR)
  const bridge = input.bridge ?? DEFAULT_BRIDGE
  return [
    folderVars(l),
    // Processes naming the cluster's folders (components, containerd's shims) and the pods' processes (the
    // kubelet's cgroups).
    'n=0; for p in /proc/[0-9]*; do a=$(tr "\\0" " " < "$p/cmdline" 2>/dev/null) || continue; case "$a" in *"$d"*|*"$r"*|*"$c"*) n=$((n + 1)); continue ;; esac; grep -qs kubepods "$p/cgroup" && n=$((n + 1)); done',
    'echo "processes $n"',
    `echo "mounts $(awk -v d="$d" -v r="$r" 'index($5, d) == 1 || index($5, r) == 1' /proc/self/mountinfo | wc -l)"`,
    `m=0; for ns in /run/netns/cni-*; do [ -e "$ns" ] || continue; ip netns exec "\${ns##*/}" ip -4 -o addr show 2>/dev/null | grep -Eq ' inet ${pods}' && m=$((m + 1)); done; echo "netns $m"`,
    `echo "bridge $(ip link show ${shq(bridge)} >/dev/null 2>&1 && echo 1 || echo 0)"`,
    `echo "iptables $( (iptables-save; ip6tables-save) 2>/dev/null | grep -c -e 'KUBE-' -e ${shq(MASQUERADE_COMMENT)})"`,
    'echo "cgroups $(ls -d /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods 2>/dev/null | wc -l)"',
    `echo "folders $(ls -d ${shq(l.clusterDir)} ${shq(l.dataDir)} ${shq(l.runDir)} 2>/dev/null | wc -l)"`,
    `echo "files $(ls -d /var/lib/kubelet /run/containerd/s /var/lib/cni/results/${CNI_NETWORK_NAME}-* /var/lib/cni/results/cni-loopback-* 2>/dev/null | wc -l)"`,
  ].join('\n')
}

function dirname(path: string): string {
  return path.replace(/\/[^/]+$/, '')
}

function basename(path: string): string {
  return path.replace(/^.*\//, '')
}

/**
 * $d, $r, $c: the cluster's data, run and config folders (trailing slash), assembled at run time so that the
 * script's own command line never contains them (its pgrep/pkill/process scans would find the script itself).
 */
function folderVars(l: KubernetesLayout): string {
  const cluster = basename(l.dataDir)
  return [
    `cl=${shq(cluster)}`,
    `d="${dirname(l.dataDir)}/$cl/"`,
    `r="${dirname(l.runDir)}/$cl/"`,
    `c=${shq(dirname(l.clusterDir))}"/$cl/kubernetes/"`,
  ].join('; ')
}
