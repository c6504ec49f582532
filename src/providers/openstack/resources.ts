import {OpenStackInputError, type OpenStackApi} from './client.js'

export interface Flavor {
  id: string
  name: string
  vcpus: number
  ram: number
  disk?: number
}

export interface GlanceImage {
  id: string
  name?: string
  status?: string
  created_at?: string
  os_distro?: string
  os_version?: string
}

export interface Network {
  id: string
  name: string
  'router:external'?: boolean
  subnets?: string[]
}

export interface Subnet {
  id: string
  cidr: string
  ip_version: number
}

/** The default flavor: the smallest (by memory, then vCPUs) with 2 vCPUs and 4 GiB, what one Spark worker needs. */
const DEFAULT_MIN = {vcpus: 2, ram: 4096}

function byNameOrId<T extends {id: string; name?: string}>(items: T[], wanted: string, what: string, flag: string): T {
  const byId = items.find((i) => i.id === wanted)
  if (byId) return byId
  const named = items.filter((i) => i.name === wanted)
  if (named.length === 1) return named[0]!
  if (named.length > 1) throw new OpenStackInputError(`${flag} ${wanted}: ${named.length} ${what}s have that name (${named.map((i) => i.id).join(', ')}): pass an id`)
  const names = items.map((i) => i.name || i.id).slice(0, 8)
  throw new OpenStackInputError(`unknown ${what} ${JSON.stringify(wanted)} (${flag}): the cloud has ${names.join(', ') || 'none'}${items.length > 8 ? ', ...' : ''}`)
}

export function pickFlavor(flavors: Flavor[], wanted?: string): Flavor {
  if (wanted) return byNameOrId(flavors, wanted, 'flavor', '--flavor')
  const fit = flavors.filter((f) => f.vcpus >= DEFAULT_MIN.vcpus && f.ram >= DEFAULT_MIN.ram).sort((a, b) => a.ram - b.ram || a.vcpus - b.vcpus || (a.disk ?? 0) - (b.disk ?? 0))
  if (fit.length === 0) throw new OpenStackInputError(`no flavor has ${DEFAULT_MIN.vcpus} vCPUs and ${DEFAULT_MIN.ram / 1024} GiB: pass --flavor (the cloud has ${flavors.map((f) => f.name).join(', ') || 'none'})`)
  return fit[0]!
}

function isDebian12(image: GlanceImage): boolean {
  if (image.os_distro) return image.os_distro.toLowerCase() === 'debian' && /^12(\.|$)/.test(image.os_version ?? '')
  return /debian[^a-z0-9]*12(?![0-9])|bookworm/i.test(image.name ?? '')
}

/** The image by name or id, or the newest active Debian 12 image (os_distro/os_version, else its name). */
export function pickImage(images: GlanceImage[], wanted?: string): GlanceImage {
  const active = images.filter((i) => (i.status ?? 'active') === 'active')
  if (wanted) return byNameOrId(active, wanted, 'image', '--image')
  const debian = active.filter(isDebian12).sort((a, b) => Date.parse(b.created_at ?? '0') - Date.parse(a.created_at ?? '0'))
  if (debian.length === 0) throw new OpenStackInputError('no Debian 12 image is visible in this cloud: pass --image')
  return debian[0]!
}

/** The network by name or id, or the project's only network that is not external. */
export function pickNetwork(networks: Network[], wanted?: string): Network {
  if (wanted) return byNameOrId(networks, wanted, 'network', '--network')
  const internal = networks.filter((n) => !n['router:external'])
  if (internal.length === 1) return internal[0]!
  throw new OpenStackInputError(`${internal.length === 0 ? 'no network' : `${internal.length} networks`} to put the hosts on: pass --network (the cloud has ${networks.map((n) => n.name || n.id).join(', ') || 'none'})`)
}

/** `--floating-ip NETWORK`: an external network (router:external), by name or id. */
export function pickExternalNetwork(networks: Network[], wanted: string): Network {
  const network = byNameOrId(networks, wanted, 'network', '--floating-ip')
  if (network['router:external']) return network
  const external = networks.filter((n) => n['router:external']).map((n) => n.name || n.id)
  throw new OpenStackInputError(`--floating-ip ${wanted}: network ${network.name || network.id} is not external (router:external), so it has no floating IPs (${external.length > 0 ? `external: ${external.join(', ')}` : 'the cloud shows no external network'})`)
}

export async function listFlavors(api: OpenStackApi): Promise<Flavor[]> {
  return (await api.get<{flavors: Flavor[]}>('compute', '/flavors/detail')).flavors
}

/** Every active image visible to the project (Glance pages them: at most 20 pages of 500). */
export async function listImages(api: OpenStackApi): Promise<GlanceImage[]> {
  const images: GlanceImage[] = []
  let path: string | undefined = '/images?status=active&limit=500&sort=created_at:desc'
  for (let page = 0; path && page < 20; page++) {
    const out: {images: GlanceImage[]; next?: string} = await api.get('image', path)
    images.push(...out.images)
    path = out.next?.replace(/^\/v2/, '')
  }
  return images
}

export async function listNetworks(api: OpenStackApi): Promise<Network[]> {
  return (await api.get<{networks: Network[]}>('network', '/networks')).networks
}

/** The first IPv4 subnet's range of a network (who may reach SSH by default, when hosts are reached there). */
export async function networkCidr(api: OpenStackApi, network: Network): Promise<string | undefined> {
  const {subnets} = await api.get<{subnets: Subnet[]}>('network', `/subnets?network_id=${encodeURIComponent(network.id)}`)
  return subnets.find((s) => s.ip_version === 4)?.cidr
}
