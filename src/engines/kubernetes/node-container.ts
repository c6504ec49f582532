import type {ContainerNeeds} from '../../providers/provider.js'

/**
 * What a Kubernetes node needs when it is a Docker container (the docker provider's hosts), never `--privileged`
 * (it fails where the capability bounding set lacks CAP_SYS_RESOURCE, and it would hand the node every device):
 * all capabilities but SYS_RESOURCE, no seccomp/AppArmor filter and /proc and /sys unmasked (the kubelet, runc and
 * kube-proxy need them), /dev/kmsg for the kubelet's OOM watcher, any device node for runc's cgroup rules, a
 * private cgroup namespace (the container's own subtree is what the kubelet manages), an init (a stopped
 * containerd would linger as a zombie), tmpfs on /run and /tmp, and an anonymous volume on /var: containerd's
 * overlayfs snapshotter cannot stack on the container's own overlay root.
 *
 * Unmasked /proc/sys lets the node write kernel settings that are not namespaced, i.e. the machine's own: the node's
 * entrypoint (images/k8s-host) shadows each one the kubelet sets with a file holding the value it wants, before
 * anything starts. SHADOWED_SYSCTLS is that list; kube-proxy is configured to touch none (renderKubeProxyConfig).
 */

export interface NodeContainerOptions {
  capAdd: string[]
  capDrop: string[]
  securityOpt: string[]
  /** /proc and /sys without Docker's masked and read-only paths (`--security-opt systempaths=unconfined`). */
  unmaskedSystemPaths: true
  devices: string[]
  deviceCgroupRules: string[]
  cgroupns: 'private'
  init: true
  tmpfs: Record<string, string>
  /** Anonymous volumes (a fresh one per container, removed with it by `docker rm -v`). */
  volumes: string[]
}

export const NODE_CONTAINER: NodeContainerOptions = {
  capAdd: ['ALL'],
  capDrop: ['SYS_RESOURCE'],
  securityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
  unmaskedSystemPaths: true,
  devices: ['/dev/kmsg'],
  deviceCgroupRules: ['a *:* rwm'],
  cgroupns: 'private',
  init: true,
  tmpfs: {'/run': 'rw,nosuid,nodev,mode=0755', '/tmp': 'rw,nosuid,nodev,mode=1777'},
  volumes: ['/var'],
}

/** The same as the docker provider's ContainerNeeds: what the Kubernetes engine declares (images/k8s-host). */
export function kubernetesContainerNeeds(o: NodeContainerOptions = NODE_CONTAINER): ContainerNeeds {
  return {
    imageVariant: 'k8s-host',
    capAdd: [...o.capAdd],
    capDrop: [...o.capDrop],
    securityOpt: [...o.securityOpt],
    unmaskedSystemPaths: o.unmaskedSystemPaths,
    devices: [...o.devices],
    deviceCgroupRules: [...o.deviceCgroupRules],
    // A private cgroup namespace with the container's own cgroup tree writable.
    writableCgroups: true,
    init: o.init,
    tmpfs: {...o.tmpfs},
    volumes: [...o.volumes],
  }
}

/** The same as `docker run` flags. */
export function nodeContainerRunArgs(o: NodeContainerOptions = NODE_CONTAINER): string[] {
  return [
    ...o.capAdd.map((c) => `--cap-add=${c}`),
    ...o.capDrop.map((c) => `--cap-drop=${c}`),
    ...o.securityOpt.map((s) => `--security-opt=${s}`),
    ...(o.unmaskedSystemPaths ? ['--security-opt=systempaths=unconfined'] : []),
    ...o.devices.map((d) => `--device=${d}`),
    ...o.deviceCgroupRules.map((r) => `--device-cgroup-rule=${r}`),
    `--cgroupns=${o.cgroupns}`,
    '--init',
    ...Object.entries(o.tmpfs).map(([path, opts]) => `--tmpfs=${path}:${opts}`),
    ...o.volumes.map((v) => `--volume=${v}`),
  ]
}

/** The same for the Docker API (dockerode's createContainer): HostConfig fields and the top-level Volumes. */
export function nodeContainerCreateOptions(o: NodeContainerOptions = NODE_CONTAINER): {
  Volumes: Record<string, Record<string, never>>
  HostConfig: {
    CapAdd: string[]
    CapDrop: string[]
    SecurityOpt: string[]
    MaskedPaths: string[]
    ReadonlyPaths: string[]
    Devices: Array<{PathOnHost: string; PathInContainer: string; CgroupPermissions: string}>
    DeviceCgroupRules: string[]
    CgroupnsMode: 'private'
    Init: boolean
    Tmpfs: Record<string, string>
  }
} {
  return {
    Volumes: Object.fromEntries(o.volumes.map((v) => [v, {}])),
    HostConfig: {
      CapAdd: [...o.capAdd],
      CapDrop: [...o.capDrop],
      SecurityOpt: [...o.securityOpt],
      // The API has no systempaths option: the CLI sends empty masked and read-only path lists for it.
      MaskedPaths: [],
      ReadonlyPaths: [],
      Devices: o.devices.map((d) => ({PathOnHost: d, PathInContainer: d, CgroupPermissions: 'rwm'})),
      DeviceCgroupRules: [...o.deviceCgroupRules],
      CgroupnsMode: o.cgroupns,
      Init: o.init,
      Tmpfs: {...o.tmpfs},
    },
  }
}

/**
 * Kernel settings that are not namespaced and that the kubelet sets at start (pkg/kubelet/cm setupKernelTunables),
 * with the values it wants: a node container shadows each with a file holding that value, so the kubelet finds
 * them as it wants them and the machine's own stay unchanged.
 */
export const SHADOWED_SYSCTLS: ReadonlyArray<{path: string; value: string}> = [
  {path: '/proc/sys/vm/overcommit_memory', value: '1'},
  {path: '/proc/sys/vm/panic_on_oom', value: '0'},
  {path: '/proc/sys/kernel/panic', value: '10'},
  {path: '/proc/sys/kernel/panic_on_oops', value: '1'},
  {path: '/proc/sys/kernel/keys/root_maxkeys', value: '1000000'},
  {path: '/proc/sys/kernel/keys/root_maxbytes', value: '25000000'},
]
