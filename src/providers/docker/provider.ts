import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import type Dockerode from 'dockerode'
import {packageRoot} from '../../config/package-root.js'
import {localPaths} from '../../config/paths.js'
import type {KnownHosts} from '../../remote/known-hosts.js'
import {mapLimit} from '../../remote/fanout.js'
import {engineInfo, listContainers, type ContainerSummary} from './api.js'
import {readTarFile} from '../tar-read.js'
import {tarArchive} from '../tar.js'
import type {ClusterSummary, ContainerNeeds, Host, HostCredentials, MachineSize, Provider, ProvisionRequest} from '../provider.js'

export const LABEL = {
  cluster: 'cms.cluster',
  role: 'cms.role',
  engine: 'cms.engine',
  index: 'cms.index',
} as const

const hostImageDir = (): string => join(packageRoot(), 'images', 'host')
const SSH_USER = 'root'

interface KeyPair {
  private: string
  public: string
}

export function containerName(cluster: string, index: number): string {
  return `cms-${cluster}-${index}`
}

export function networkName(cluster: string): string {
  return `cms-${cluster}`
}

/**
 * What an engine's ContainerNeeds add to a host container (dockerode createContainer options): never Privileged,
 * only the capabilities, filters, devices and mounts asked for.
 */
export function containerNeedsOptions(needs: ContainerNeeds): {Volumes?: Record<string, Record<string, never>>; HostConfig: Record<string, unknown>} {
  const hostConfig: Record<string, unknown> = {Init: needs.init ?? false}
  if (needs.capAdd?.length) hostConfig.CapAdd = [...needs.capAdd]
  if (needs.capDrop?.length) hostConfig.CapDrop = [...needs.capDrop]
  if (needs.securityOpt?.length) hostConfig.SecurityOpt = [...needs.securityOpt]
  if (needs.unmaskedSystemPaths) Object.assign(hostConfig, {MaskedPaths: [], ReadonlyPaths: []})
  if (needs.devices?.length) hostConfig.Devices = needs.devices.map((d) => ({PathOnHost: d, PathInContainer: d, CgroupPermissions: 'rwm'}))
  if (needs.deviceCgroupRules?.length) hostConfig.DeviceCgroupRules = [...needs.deviceCgroupRules]
  if (needs.writableCgroups) hostConfig.CgroupnsMode = 'private'
  if (needs.tmpfs && Object.keys(needs.tmpfs).length > 0) hostConfig.Tmpfs = {...needs.tmpfs}
  return {...(needs.volumes?.length ? {Volumes: Object.fromEntries(needs.volumes.map((v) => [v, {}]))} : {}), HostConfig: hostConfig}
}

/** A host image variant's tag: its folder's content and the host image it is built FROM. */
export function variantImageTag(variant: string, hostTag: string, dir = join(packageRoot(), 'images', variant)): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(variant)) throw new Error(`not an image variant: ${JSON.stringify(variant)}`)
  const hash = createHash('sha256').update(hostTag).update('\0')
  for (const file of readdirSync(dir).sort()) hash.update(file).update('\0').update(readFileSync(join(dir, file)))
  return `cms-${variant}:${hash.digest('hex').slice(0, 12)}`
}

/** The host image tag carries a hash of images/host, so changing the Dockerfile builds a new image. */
export function hostImageTag(dir = hostImageDir()): string {
  const hash = createHash('sha256')
  for (const file of readdirSync(dir).sort()) hash.update(file).update('\0').update(readFileSync(join(dir, file)))
  return `cms-host:${hash.digest('hex').slice(0, 12)}`
}

function containerAddress(c: ContainerSummary, cluster: string): string | undefined {
  const networks = c.NetworkSettings?.Networks ?? {}
  return networks[networkName(cluster)]?.IPAddress || Object.values(networks)[0]?.IPAddress || undefined
}

export function hostFromContainer(c: ContainerSummary, cluster: string): Host {
  const address = containerAddress(c, cluster)
  const running = c.State === 'running'
  return {
    id: c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12),
    role: c.Labels[LABEL.role] === 'head' ? 'head' : 'worker',
    target: {host: address ?? '', port: 22, user: SSH_USER, identityFiles: [localPaths.keyFile(cluster)]},
    privateAddress: address,
    state: running && address ? 'running' : 'stopped',
  }
}

/** Clusters as the Docker engine's labels describe them, without loading dockerode. */
export function summarizeContainers(containers: ContainerSummary[]): ClusterSummary[] {
  const byCluster = new Map<string, ContainerSummary[]>()
  for (const c of containers) {
    const name = c.Labels[LABEL.cluster]
    byCluster.set(name, [...(byCluster.get(name) ?? []), c])
  }
  return [...byCluster.entries()].map(([name, cs]) => {
    const head = cs.find((c) => c.Labels[LABEL.role] === 'head')
    return {
      name,
      provider: 'docker',
      engine: cs[0].Labels[LABEL.engine] ?? 'unknown',
      hosts: cs.length,
      runningHosts: cs.filter((c) => c.State === 'running').length,
      head: head ? containerAddress(head, name) : undefined,
    }
  })
}

function indexOf(c: ContainerSummary): number {
  return Number(c.Labels[LABEL.index] ?? 0)
}

export class DockerProvider implements Provider {
  readonly name = 'docker' as const
  readonly ownsHosts = true
  readonly releasedDetail = 'container removed'
  private dockerode?: Dockerode
  private readonly pendingKeys = new Map<string, KeyPair>()

  constructor(
    private readonly knownHosts: KnownHosts,
    private readonly log: (line: string) => void = () => {},
    /** false: a command that only looks (list) uses the key this machine has and makes none. */
    private readonly access: {makeKeys: boolean} = {makeKeys: true},
  ) {}

  private async docker(): Promise<Dockerode> {
    if (!this.dockerode) {
      const {default: Docker} = await import('dockerode')
      this.dockerode = new Docker()
    }
    return this.dockerode
  }

  private async containers(cluster: string): Promise<ContainerSummary[]> {
    const all = await listContainers([`${LABEL.cluster}=${cluster}`])
    return all.sort((a, b) => indexOf(a) - indexOf(b))
  }

  async observe(cluster: string): Promise<Host[]> {
    return (await this.containers(cluster)).map((c) => hostFromContainer(c, cluster))
  }

  /**
   * The key cms authenticates with. A cluster with no hosts yet gets a key held in memory only: it is written to
   * ~/.cms/keys when provision makes the first host, so a create refused before that leaves no file behind.
   */
  async credentials(cluster: string): Promise<HostCredentials> {
    const file = localPaths.keyFile(cluster)
    if (existsSync(file)) return {privateKey: readFileSync(file)}
    if (!this.access.makeKeys) return {}
    if ((await this.containers(cluster)).length > 0) return {privateKey: await this.ensureClusterKey(cluster)}
    return {privateKey: Buffer.from((await this.pendingKey(cluster)).private)}
  }

  accessProblem(cluster: string): string | undefined {
    if (this.access.makeKeys || existsSync(localPaths.keyFile(cluster))) return undefined
    return `no access key for cluster ${cluster} on this machine (${localPaths.keyFile(cluster)}): 'cms cluster info -n ${cluster}' makes one and installs it`
  }

  private async pendingKey(cluster: string): Promise<KeyPair> {
    let pair = this.pendingKeys.get(cluster)
    if (!pair) {
      const {generateEd25519} = await import('../ssh-keys.js')
      pair = generateEd25519(`cms-${cluster}`)
      this.pendingKeys.set(cluster, pair)
    }
    return pair
  }

  async sharedMachine(): Promise<MachineSize> {
    const info = await engineInfo()
    return {memoryMb: Math.floor(info.MemTotal / 2 ** 20), cpus: info.NCPU}
  }

  /**
   * The cluster's SSH key lives in ~/.cms/keys. If it was deleted, a new one is made and installed through the
   * Docker API, so losing local files never loses a docker cluster.
   */
  private async ensureClusterKey(cluster: string): Promise<Buffer> {
    const file = localPaths.keyFile(cluster)
    if (existsSync(file)) return readFileSync(file)
    const pair = await this.pendingKey(cluster)
    mkdirSync(dirname(file), {recursive: true, mode: 0o700})
    writeFileSync(file, pair.private, {mode: 0o600})
    writeFileSync(`${file}.pub`, pair.public + '\n', {mode: 0o644})
    const existing = await this.containers(cluster)
    if (existing.length > 0) {
      // Appended, not replaced: other machines that manage this cluster keep their own keys.
      const docker = await this.docker()
      for (const c of existing) {
        const container = docker.getContainer(c.Id)
        const current = await container
          .getArchive({path: '/root/.ssh/authorized_keys'})
          .then((stream) => readTarFile(stream).then((b) => b.toString('utf8')))
          .catch(() => '')
        const keys = `${current}${current && !current.endsWith('\n') ? '\n' : ''}${pair.public}\n`
        await container.putArchive(tarArchive([{path: 'authorized_keys', content: keys, mode: 0o600}]), {path: '/root/.ssh'})
      }
      this.log(`Made an access key for cluster ${cluster} on this machine and added it on ${existing.length} hosts`)
    }
    return readFileSync(file)
  }

  async provision(cluster: string, request: ProvisionRequest): Promise<Host[]> {
    const total = request.total ?? request.existing.length
    const docker = await this.docker()
    await this.ensureClusterKey(cluster)
    const publicKey = readFileSync(`${localPaths.keyFile(cluster)}.pub`, 'utf8').trim()
    const hostImage = await this.ensureHostImage(docker)
    const variant = request.containerNeeds?.imageVariant
    const image = variant ? await this.ensureVariantImage(docker, variant, hostImage) : hostImage
    await this.ensureNetwork(docker, cluster)

    const existing = await this.containers(cluster)
    const stopped = existing.filter((c) => c.State !== 'running')
    await mapLimit(stopped, 8, async (c) => {
      this.log(`Starting stopped host ${c.Names[0]?.replace(/^\//, '')}`)
      await docker.getContainer(c.Id).start().catch((error: {statusCode?: number}) => {
        if (error.statusCode !== 304) throw error
      })
      await this.trustHostKeyFromContainer(docker, c.Id)
    })

    const missing = Math.max(0, total - existing.length)
    let nextIndex = existing.reduce((max, c) => Math.max(max, indexOf(c)), 0) + 1
    const hasHead = existing.some((c) => c.Labels[LABEL.role] === 'head')
    const plans = Array.from({length: missing}, (_, i) => ({
      index: nextIndex++,
      role: !hasHead && i === 0 ? 'head' : 'worker',
    }))
    await mapLimit(plans, 8, (plan) => this.createHost(docker, cluster, image, publicKey, request, plan.index, plan.role))
    return this.observe(cluster)
  }

  private async createHost(docker: Dockerode, cluster: string, image: string, publicKey: string, request: ProvisionRequest, index: number, role: string) {
    const needs = request.containerNeeds ?? {}
    const extra = containerNeedsOptions(needs)
    const name = containerName(cluster, index)
    const {generateEd25519} = await import('../ssh-keys.js')
    const hostKey = generateEd25519(name)
    const container = await docker.createContainer({
      name,
      Hostname: name,
      Image: image,
      Labels: {[LABEL.cluster]: cluster, [LABEL.role]: role, [LABEL.engine]: request.engine, [LABEL.index]: String(index)},
      Env: [`CMS_AUTHORIZED_KEY=${publicKey}`, ...(needs.writableCgroups ? ['CMS_WRITABLE_CGROUPS=1'] : [])],
      ...(extra.Volumes ? {Volumes: extra.Volumes} : {}),
      HostConfig: {NetworkMode: networkName(cluster), ...extra.HostConfig},
    })
    // The host key is made here and placed before sshd first starts, so cms knows it from the Docker API rather
    // than trusting whatever answers on the network the first time.
    await container.putArchive(
      tarArchive([
        {path: 'ssh_host_ed25519_key', content: hostKey.private, mode: 0o600},
        {path: 'ssh_host_ed25519_key.pub', content: hostKey.public + '\n', mode: 0o644},
      ]),
      {path: '/etc/ssh'},
    )
    await container.start()
    const info = await container.inspect()
    const address = info.NetworkSettings.Networks[networkName(cluster)]?.IPAddress
    if (!address) throw new Error(`container ${name} has no address on network ${networkName(cluster)}`)
    this.trustHostKey(address, hostKey.public)
    this.log(`Created ${role} host ${name} (${address})`)
  }

  private trustHostKey(address: string, publicLine: string) {
    const [type, base64] = publicLine.trim().split(/\s+/)
    this.knownHosts.replace(address, 22, type, Buffer.from(base64, 'base64'))
  }

  private async trustHostKeyFromContainer(docker: Dockerode, id: string) {
    const container = docker.getContainer(id)
    const stream = await container.getArchive({path: '/etc/ssh/ssh_host_ed25519_key.pub'})
    const publicLine = (await readTarFile(stream)).toString('utf8')
    const info = await container.inspect()
    const address = Object.values(info.NetworkSettings.Networks)[0]?.IPAddress
    if (address) this.trustHostKey(address, publicLine)
  }

  private async ensureHostImage(docker: Dockerode): Promise<string> {
    return this.ensureImage(docker, hostImageTag(), hostImageDir(), {})
  }

  /** An image FROM the host image (images/VARIANT, `ARG HOST_IMAGE`), built once per content. */
  private async ensureVariantImage(docker: Dockerode, variant: string, hostTag: string): Promise<string> {
    return this.ensureImage(docker, variantImageTag(variant, hostTag), join(packageRoot(), 'images', variant), {HOST_IMAGE: hostTag})
  }

  private async ensureImage(docker: Dockerode, tag: string, context: string, buildargs: Record<string, string>): Promise<string> {
    try {
      await docker.getImage(tag).inspect()
      return tag
    } catch {
      // not built yet
    }
    this.log(`Building host image ${tag} from images/${context.split('/').pop()} (once)`)
    const stream = await docker.buildImage({context, src: readdirSync(context)}, {t: tag, rm: true, forcerm: true, ...(Object.keys(buildargs).length ? {buildargs} : {})})
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (error: Error | null, events: Array<{error?: string}>) => {
        const failed = events?.find((e) => e.error)
        if (error || failed) reject(new Error(`building ${tag} failed: ${error?.message ?? failed?.error}`))
        else resolve()
      })
    })
    return tag
  }

  private async ensureNetwork(docker: Dockerode, cluster: string) {
    const name = networkName(cluster)
    const found = await docker.listNetworks({filters: {name: [name]}})
    if (found.some((n) => n.Name === name)) return
    await docker.createNetwork({Name: name, Driver: 'bridge', Labels: {[LABEL.cluster]: cluster}, CheckDuplicate: true})
  }

  async release(cluster: string, hosts: Host[]): Promise<void> {
    const docker = await this.docker()
    await mapLimit(hosts, 8, async (host) => {
      await docker.getContainer(host.id).remove({force: true, v: true}).catch((error: {statusCode?: number}) => {
        if (error.statusCode !== 404) throw error
      })
      if (host.target.host) this.knownHosts.forget(host.target.host, host.target.port)
    })
  }

  async destroy(cluster: string): Promise<void> {
    await this.release(cluster, await this.observe(cluster))
    const docker = await this.docker()
    const networks = await docker.listNetworks({filters: {label: [`${LABEL.cluster}=${cluster}`]}})
    for (const n of networks) {
      await docker.getNetwork(n.Id).remove().catch((error: {statusCode?: number}) => {
        if (error.statusCode !== 404) throw error
      })
    }
    rmSync(localPaths.keyFile(cluster), {force: true})
    rmSync(`${localPaths.keyFile(cluster)}.pub`, {force: true})
  }
}
