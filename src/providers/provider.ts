import type {SshTarget} from '../remote/target.js'

export type ProviderName = 'docker' | 'ssh'
export type HostRole = 'head' | 'worker'

/** One machine of a cluster as its provider sees it. Everything after provisioning goes over SSH to `target`. */
export interface Host {
  /** Stable name users pass to `remove`: the container name (docker) or user@host:port (ssh). */
  id: string
  role: HostRole
  target: SshTarget
  /** Address the engine binds to and other hosts use; the provider knows it (docker) or the host reports it (ssh). */
  privateAddress?: string
  state: 'running' | 'stopped' | 'unknown'
}

export interface ClusterSummary {
  name: string
  provider: ProviderName
  engine: string
  hosts: number
  /** Hosts the provider reports running; undefined where the provider cannot tell without the engine (ssh). */
  runningHosts?: number
  head?: string
  error?: string
}

/** How cms authenticates to a cluster's hosts: a key cms made (docker) or the user's own keys and agent (ssh). */
export interface HostCredentials {
  privateKey?: Buffer
}

export interface Provider {
  readonly name: ProviderName
  /**
   * The provider makes and destroys the hosts (containers, instances): users ask for a number of hosts, and
   * releasing a host removes everything on it. Otherwise (ssh) users name hosts and the engine cleans them.
   */
  readonly ownsHosts: boolean
  /** Observe: the cluster's hosts as they are now (empty if the cluster does not exist). */
  observe(cluster: string): Promise<Host[]>
  /** Converge: make `count` more hosts (docker) or take these host specs (ssh) and return them, plus start stopped ones. */
  provision(cluster: string, request: ProvisionRequest): Promise<Host[]>
  /** Give hosts back: remove containers (docker); nothing for ssh hosts, which the engine has already cleaned. */
  release(cluster: string, hosts: Host[]): Promise<void>
  /** Remove whatever the provider holds for the cluster (containers, networks, keys). */
  destroy(cluster: string): Promise<void>
  credentials(cluster: string): Promise<HostCredentials>
  /** For providers whose hosts all run on one machine (docker): that machine's size, which the hosts share. */
  sharedMachine?(): Promise<MachineSize>
}

export interface MachineSize {
  memoryMb: number
  cpus: number
}

/** What an engine needs from a container beyond a plain host (the docker provider applies it; never --privileged). */
export interface ContainerNeeds {
  capAdd?: string[]
  /**
   * The container's own cgroup tree, writable, in a private cgroup namespace (a root Nomad client, the kubelet):
   * what the engine changes there stays inside the container's cgroup.
   */
  writableCgroups?: boolean
  /**
   * A host image made FROM the host image: a folder under images/ whose Dockerfile takes `ARG HOST_IMAGE`
   * (Kubernetes nodes: 'k8s-host', with containerd, runc, the CNI plugins and etcd).
   */
  imageVariant?: string
  capDrop?: string[]
  /** Docker --security-opt values (seccomp=unconfined, apparmor=unconfined, systempaths=unconfined). */
  securityOpt?: string[]
  /** /proc and /sys without Docker's masked and read-only paths (the CLI's --security-opt systempaths=unconfined). */
  unmaskedSystemPaths?: boolean
  /** Device nodes passed through with rwm (/dev/kmsg). */
  devices?: string[]
  deviceCgroupRules?: string[]
  /** Docker's init as PID 1 (reaps what daemons leave, e.g. a stopped containerd). */
  init?: boolean
  /** tmpfs mounts: path -> mount options. */
  tmpfs?: Record<string, string>
  /** Anonymous volumes (a fresh one per container, removed with it). */
  volumes?: string[]
}

export interface ProvisionRequest {
  engine: string
  containerNeeds?: ContainerNeeds
  /** Hosts the cluster already has (from observe); the first role=head host stays the head. */
  existing: Host[]
  /** docker: how many hosts in total the cluster should have after this call. */
  total?: number
  /** ssh: hosts named by the user, user@host[:port]. */
  specs?: string[]
  identityFile?: string
}
