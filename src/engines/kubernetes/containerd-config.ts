import type {KubernetesLayout} from './layout.js'
import type {CgroupDriver} from './node-config.js'
import {checkAbsolutePath} from './names.js'

/**
 * The configuration of the containerd cms starts for the kubelet (containerd 1.6, config version 2): its own root,
 * state and socket (never the host's containerd, e.g. Docker's), the CRI plugin with cms's CNI folders, runc with
 * the cgroup driver the kubelet uses. No registry is configured: cms imports the images nodes run.
 */

export interface ContainerdConfigInput {
  layout: KubernetesLayout
  /** The pause image every pod sandbox runs (built and imported by cms; nothing can be pulled). */
  sandboxImage: string
  cgroupDriver?: CgroupDriver
  /** Folder of the CNI plugin binaries (Debian: /usr/lib/cni). */
  cniBinDir?: string
  /** runc's path (Debian: /usr/sbin/runc). */
  runcBinary?: string
  /**
   * containerd refuses to give containers an oom_score_adj lower than its own: needed where nothing may lower it
   * (an unprivileged container host), harmless elsewhere.
   */
  restrictOomScoreAdj?: boolean
  /** No AppArmor profile for containers (hosts without apparmor_parser, containers nested in Docker). */
  disableApparmor?: boolean
}

const IMAGE_REF = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/

/** A TOML basic string. */
function toml(value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error(`a containerd setting cannot contain control characters: ${JSON.stringify(value)}`)
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

export function renderContainerdConfig(input: ContainerdConfigInput): string {
  const l = input.layout
  if (!IMAGE_REF.test(input.sandboxImage)) throw new Error(`the sandbox image must be a tagged image reference: ${JSON.stringify(input.sandboxImage)}`)
  const cniBinDir = checkAbsolutePath('the CNI plugin folder', input.cniBinDir ?? '/usr/lib/cni')
  const runc = checkAbsolutePath('runc', input.runcBinary ?? '/usr/sbin/runc')
  const systemdCgroup = (input.cgroupDriver ?? 'cgroupfs') === 'systemd'
  const cri = 'plugins."io.containerd.grpc.v1.cri"'
  return [
    '# Written by cms: edits are replaced on the next converge.',
    'version = 2',
    `root = ${toml(l.containerdRoot)}`,
    `state = ${toml(l.containerdState)}`,
    // Snapshotters and plugins that probe the host (btrfs, zfs, devmapper, aufs) or are never used.
    'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]',
    '',
    '[grpc]',
    `  address = ${toml(l.containerdSocket)}`,
    '',
    '[ttrpc]',
    `  address = ${toml(`${l.containerdSocket}.ttrpc`)}`,
    '',
    `[${cri}]`,
    `  sandbox_image = ${toml(input.sandboxImage)}`,
    `  restrict_oom_score_adj = ${input.restrictOomScoreAdj ?? true}`,
    `  disable_apparmor = ${input.disableApparmor ?? false}`,
    '  enable_selinux = false',
    '  max_container_log_line_size = 16384',
    '',
    `[${cri}.containerd]`,
    '  snapshotter = "overlayfs"',
    '  default_runtime_name = "runc"',
    '  discard_unpacked_layers = false',
    '',
    `[${cri}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    '',
    `[${cri}.containerd.runtimes.runc.options]`,
    `  BinaryName = ${toml(runc)}`,
    // runc's state next to containerd's (its default is /run/containerd/runc, the host containerd's folder).
    `  Root = ${toml(`${l.runDir}/runc`)}`,
    `  SystemdCgroup = ${systemdCgroup}`,
    '',
    `[${cri}.cni]`,
    `  bin_dir = ${toml(cniBinDir)}`,
    `  conf_dir = ${toml(l.cniConfDir)}`,
    '  max_conf_num = 1',
    '',
  ].join('\n')
}
