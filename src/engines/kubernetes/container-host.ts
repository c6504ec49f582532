import {shq} from '../../remote/shell.js'
import {SHADOWED_SYSCTLS} from './node-container.js'

/**
 * A node that is a container (docker's node containers, a privileged LXD container, any container a user gives as
 * an ssh host) shares the machine's kernel. Before containerd or the kubelet start, this prepares it; on a machine
 * or VM (its kernel is the node's own) it does nothing, and what is already right is left as it is (docker's node
 * image does the same in its entrypoint), so it runs on every host:
 * - mounts are made shared (containerd and the kubelet propagate mounts into pods);
 * - every cgroup v1 controller the container is in is mounted: LXC leaves out controllers the machine mounts
 *   apart (cpu and cpuacct, where they are not co-mounted), and the kubelet refuses to start without them. The
 *   container's cgroup namespace makes each such mount its own subtree, never the machine's;
 * - the kernel settings the kubelet writes at start (SHADOWED_SYSCTLS), the machine's own here, are each shadowed
 *   with a file holding the value the kubelet wants (bind-mounted over it): the kubelet finds them as it wants them,
 *   its writes land in the file, and the machine's stay unchanged.
 *
 * Prints `unshadowed PATH` / `unmounted CONTROLLER` for what it could not do (the container may not mount: it is
 * not privileged), nothing when all is right. Exit code 0 either way: the caller decides.
 */
export function containerHostScript(settings: ReadonlyArray<{path: string; value: string}> = SHADOWED_SYSCTLS, dir = '/run/cms-sysctl', root = ''): string {
  // `root` moves every path the script reads or mounts on under a folder (the unit tests' stand-in machine).
  const at = (path: string) => shq(`${root}${path}`)
  const cgroupRoot = at('/sys/fs/cgroup')
  const lines = [
    // systemd writes /run/systemd/container in any container it boots in (LXD, nspawn); docker leaves /.dockerenv.
    `if [ -f ${at('/.dockerenv')} ] || [ -s ${at('/run/systemd/container')} ] || tr '\\0' '\\n' 2>/dev/null <${at('/proc/1/environ')} | grep -q '^container='; then`,
    `mount --make-rshared ${at('/')} 2>/dev/null || true`,
    `has_controller() { awk -v c="$1" '$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) found = 1 } END { exit !found }' ${at('/proc/mounts')}; }`,
    // cgroup v1 controllers are named in the second field (none on a cgroup v2 machine).
    'remounted=',
    `for c in $(cut -d: -f2 ${at('/proc/self/cgroup')} | tr , '\\n' | grep -v -e '^$' -e '^name='); do`,
    '  has_controller "$c" && continue',
    `  [ -n "$remounted" ] || { mount -o remount,rw ${cgroupRoot} 2>/dev/null && remounted=1; }`,
    `  { { [ ! -L ${cgroupRoot}/"$c" ] || rm ${cgroupRoot}/"$c"; } && mkdir -p ${cgroupRoot}/"$c" && mount -t cgroup -o "$c" cgroup ${cgroupRoot}/"$c"; } 2>/dev/null`,
    '  has_controller "$c" || echo "unmounted $c"',
    'done',
    `[ -z "$remounted" ] || mount -o remount,ro ${cgroupRoot} 2>/dev/null || true`,
    `mkdir -p ${shq(dir)}`,
  ]
  for (const s of settings) {
    if (!/^\/proc\/sys\/[a-z0-9_/]+$/.test(s.path) || !/^[0-9]+$/.test(s.value)) throw new Error(`not a kernel setting: ${JSON.stringify(s)}`)
    const path = at(s.path)
    const file = shq(`${dir}/${s.path.slice('/proc/sys/'.length).replaceAll('/', '.')}`)
    lines.push(
      `if [ -e ${path} ] && ! awk -v p=${path} '$5 == p {found = 1} END {exit !found}' ${at('/proc/self/mountinfo')}; then`,
      `  echo ${s.value} > ${file} && mount --bind ${file} ${path} 2>/dev/null || true`,
      'fi',
      `[ ! -e ${path} ] || [ "$(cat ${path} 2>/dev/null)" = ${s.value} ] || echo ${shq(`unshadowed ${s.path}`)}`,
    )
  }
  lines.push('fi', 'exit 0')
  return lines.join('\n')
}

/** One line for the user when a container host could not be prepared, or undefined when it was. */
export function describeContainerHost(host: string, output: string): string | undefined {
  const found = (word: string) =>
    output
      .split('\n')
      .map((l) => new RegExp(`^${word} (\\S+)$`).exec(l.trim())?.[1])
      .filter((p): p is string => p !== undefined)
  const problems = [
    ...found('unshadowed').map((p) => `shadow ${p} (the kubelet would write the machine's own setting)`),
    ...found('unmounted').map((c) => `mount its ${c} cgroup controller`),
  ]
  if (problems.length === 0) return undefined
  return `${host}: is a container, and cms could not ${problems.join(', nor ')}: a Kubernetes node container must be allowed to mount (docker's node containers and cms's LXD node containers are)`
}
