import type {SshSession} from '../remote/session.js'
import type {SshTarget} from '../remote/target.js'

import type {ProviderName} from './registry.js'

export type {ProviderName}
/** What a host is in its cluster: the head runs the engine's control plane, workers the rest. */
export const HOST_ROLES = ['head', 'worker'] as const
export type HostRole = (typeof HOST_ROLES)[number]

/** One machine of a cluster as its provider sees it. Everything after provisioning goes over SSH to `target`. */
export interface Host {
  /** Stable name users pass to `remove`: the container name (docker) or user@host:port (ssh). */
  id: string
  role: HostRole
  target: SshTarget
  /** Address the engine binds to and other hosts use; the provider knows it (docker) or the host reports it (ssh). */
  privateAddress?: string
  state: 'running' | 'stopped' | 'unknown'
  /** Cloud providers (aws): what the instance is and costs. */
  cloud?: CloudHostDetails
}

export interface CloudHostDetails {
  instanceType: string
  lifecycle: 'spot' | 'on-demand'
  /** ISO 8601 launch time. */
  launchedAt: string
  zone?: string
  /** The cluster's lifetime as tagged at create (--max-age), in seconds. */
  maxAgeSeconds?: number
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
  /** Seconds since the cluster's first host started (providers that know it: aws). */
  ageSeconds?: number
  /** The cluster's --max-age in seconds, if it has one. */
  maxAgeSeconds?: number
  /** Older than its max age: `cms cluster reap` kills it. */
  expired?: boolean
}

/** How cms authenticates to a cluster's hosts: a key cms made (docker) or the user's own keys and agent (ssh). */
export interface HostCredentials {
  privateKey?: Buffer
}

export interface Provider {
  readonly name: ProviderName
  /**
   * The provider makes and destroys the hosts themselves (docker, aws): kill and remove give them back instead
   * of having the engine clean them. False for ssh, whose hosts belong to the user.
   */
  readonly ownsHosts: boolean
  /** What giving a host back did, for kill and remove reports ('container removed'); for providers that own hosts. */
  readonly releasedDetail?: string
  /** Observe: the cluster's hosts as they are now (empty if the cluster does not exist). */
  observe(cluster: string): Promise<Host[]>
  /** Converge: make `count` more hosts (docker) or take these host specs (ssh) and return them, plus start stopped ones. */
  provision(cluster: string, request: ProvisionRequest): Promise<Host[]>
  /** Give hosts back: remove containers (docker); nothing for ssh hosts, which the engine has already cleaned. */
  release(cluster: string, hosts: Host[]): Promise<void>
  /**
   * Remove whatever the provider holds for the cluster (containers, networks, instances, security groups, keys).
   * `known`: the hosts just observed, to save a lookup. Returns what it removed besides the hosts, if anything.
   */
  destroy(cluster: string, known?: Host[]): Promise<string[] | void>
  credentials(cluster: string): Promise<HostCredentials>
  /** For providers whose hosts all run on one machine (docker): that machine's size, which the hosts share. */
  sharedMachine?(): Promise<MachineSize>
  /** Waits until a freshly made host has finished its own setup (cloud-init) before the engine touches it. */
  hostReady?(session: SshSession, host: Host): Promise<void>
  /** Why cms cannot log in to the cluster's hosts from this machine (e.g. no access key here), if it cannot. */
  accessProblem?(cluster: string): string | undefined
  /** Provider settings worth recording in the cluster's access file (aws: region, profile, connect). */
  accessDetails?(): Record<string, unknown>
}

export interface MachineSize {
  memoryMb: number
  cpus: number
}

/**
 * What an engine needs from a container beyond a plain host: the docker provider applies it as asked (never
 * --privileged); the lxd provider makes a container that asks for every capability a privileged one
 * (src/providers/lxd/container-needs.ts).
 */
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

/**
 * What an engine needs of a host beyond a login, known before anything is made (providers that cannot give it refuse
 * the engine then, or make their hosts so that they do).
 */
export interface EngineHostNeeds {
  /** Its daemons run as the login user and need root (containerd, the kubelet): cms logs in as root. */
  rootLogin?: boolean
}

/** The engine a cluster is created for, and what it needs of a host. */
export type EngineNeeds = EngineHostNeeds & {engine: string}

export interface ProvisionRequest {
  engine: string
  containerNeeds?: ContainerNeeds
  /** Hosts the cluster already has (from observe); the first role=head host stays the head. */
  existing: Host[]
  /** docker, aws: how many hosts in total the cluster should have after this call. */
  total?: number
  /** ssh: hosts named by the user, user@host[:port]. */
  specs?: string[]
  identityFile?: string
  /** Debian packages the engine needs on hosts a cloud provider makes from a stock image (installed by cloud-init). */
  packages?: string[]
  /** Cloud providers: how to launch new hosts (create); add reuses what the cluster's hosts were launched with. */
  launch?: CloudLaunchOptions
}

/** One host a cloud provider (lxd, openstack) launches, as cms labels it; each cloud adds what it launches it with. */
export interface NewCloudHost {
  cluster: string
  index: number
  role: HostRole
  engine: string
  sshUser: string
  /** The host's public key line (type and base64). */
  hostKey: string
  /** cloud-init's input. */
  userData: string
}

/** What `create -p aws`, `-p lxd` and `-p openstack` accept about the machines (validated before anything is made). */
export interface CloudLaunchOptions {
  /** lxd: virtual machines instead of containers. */
  vm?: boolean
  instanceType?: string
  headInstanceType?: string
  image?: string
  subnet?: string
  volumeSizeGb?: number
  spot?: boolean
  /** Who may reach SSH: a CIDR; default this machine's public address (or the VPC's range with --connect private). */
  sshCidr?: string
  sshUser?: string
  /** A duration like 8h, tagged on the cluster. */
  maxAge?: string
  /** lxd: CPUs of each host (a limit, not a reservation). */
  cpus?: number
  /** lxd: memory of each host in MiB (a limit). */
  memoryMb?: number
  /** openstack: flavor name or id. */
  flavor?: string
  /** openstack: the hosts' network, name or id. */
  network?: string
  /** openstack: the external network every host gets a floating IP from (cms connects there). */
  floatingNetwork?: string
}
