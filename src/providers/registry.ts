import {UsageError} from '../remote/errors.js'
import {awsFlags, awsLaunchFlags, launchOptionsOf} from './aws/flags.js'
import {launchFlagsGiven, validateLaunchOptions} from './aws/launch-options.js'
import {lxdFlags, lxdLaunchFlags, lxdLaunchFlagsGiven, lxdLaunchOptionsOf} from './lxd/flags.js'
import {validateLxdLaunch} from './lxd/launch-options.js'
import {openstackFlags, openstackLaunchFlags, openstackLaunchFlagsGiven, openstackLaunchOptionsOf} from './openstack/flags.js'
import {validateOpenStackLaunch} from './openstack/launch-options.js'
import type {CloudLaunchOptions, EngineNeeds} from './provider.js'
import type {ProviderFlags, ProviderModule} from './provider-module.js'

interface ProviderEntry {
  /** Makes and gives back its own hosts (`--hosts N`); otherwise the user names them as user@host[:port] arguments. */
  makesHosts: boolean
  /** Flags of every cluster command: where its clusters are and how cms reaches them. */
  flags: object
  /** Flags of `cluster create` only: how its hosts are made. */
  createFlags: object
  /** The create flags of this provider that were given, by name (to refuse them with another provider). */
  createFlagsGiven(flags: ProviderFlags): string[]
  /**
   * Checks its create flags, and that its hosts can run the engine, before anything is made (UsageError, exit 2);
   * returns what its `provision` takes.
   */
  checkCreate(flags: ProviderFlags, engine: EngineNeeds): CloudLaunchOptions | undefined
  /** When its own record of clusters (its `find`) is asked: before the access files (local labels) or after (a cloud's tags). */
  lookup?: 'before-access' | 'after-access'
  /** What finds, lists and connects its clusters (loaded on use). */
  load(): Promise<ProviderModule>
}

const none = {flags: {}, createFlags: {}, createFlagsGiven: () => [], checkCreate: () => undefined}

/**
 * Where providers are registered: a new provider is a folder (or file) under src/providers plus one entry here. Each
 * entry has its flags and their checks (light, loaded with every command) and its module (loaded on use). The order
 * is the order clusters are looked for and listed in.
 */
const PROVIDERS = {
  docker: {...none, makesHosts: true, lookup: 'before-access', load: async () => (await import('./docker/module.js')).dockerModule},
  ssh: {...none, makesHosts: false, load: async () => (await import('./ssh/module.js')).sshModule},
  aws: {
    makesHosts: true,
    lookup: 'after-access',
    flags: awsFlags,
    createFlags: awsLaunchFlags,
    createFlagsGiven: (flags: ProviderFlags) => launchFlagsGiven(launchOptionsOf(flags)),
    checkCreate: (flags: ProviderFlags, engine: EngineNeeds) => validateLaunchOptions(launchOptionsOf(flags), engine),
    load: async () => (await import('./aws/module.js')).awsModule,
  },
  lxd: {
    makesHosts: true,
    lookup: 'after-access',
    flags: lxdFlags,
    createFlags: lxdLaunchFlags,
    createFlagsGiven: lxdLaunchFlagsGiven,
    checkCreate: (flags: ProviderFlags, engine: EngineNeeds) => validateLxdLaunch(lxdLaunchOptionsOf(flags), engine),
    load: async () => (await import('./lxd/module.js')).lxdModule,
  },
  openstack: {
    makesHosts: true,
    lookup: 'after-access',
    flags: openstackFlags,
    // --ssh-cidr, --ssh-user and --max-age are aws's flags, shared (same meaning).
    createFlags: openstackLaunchFlags,
    createFlagsGiven: openstackLaunchFlagsGiven,
    checkCreate: (flags: ProviderFlags, engine: EngineNeeds) => validateOpenStackLaunch(openstackLaunchOptionsOf(flags), engine),
    load: async () => (await import('./openstack/module.js')).openstackModule,
  },
} satisfies Record<string, ProviderEntry>
const entries: Record<string, ProviderEntry> = PROVIDERS

export type ProviderName = keyof typeof PROVIDERS

export const PROVIDER_NAMES = Object.keys(PROVIDERS) as ProviderName[]

/** `create`'s provider when none is named: containers on this machine. */
export const DEFAULT_PROVIDER: ProviderName = 'docker'

/** Every provider's flags, for every command that may touch its clusters. */
export const providerFlags = Object.assign({}, ...Object.values(PROVIDERS).map((p) => p.flags)) as typeof awsFlags & typeof lxdFlags & typeof openstackFlags

/** Every provider's create flags, for `cluster create`. */
export const providerCreateFlags = Object.assign({}, ...Object.values(PROVIDERS).map((p) => p.createFlags)) as typeof awsLaunchFlags & typeof lxdLaunchFlags & typeof openstackLaunchFlags

/** The providers' flags among a command's parsed flags. */
export function providerFlagsOf(flags: Record<string, unknown>): ProviderFlags {
  const known = [...Object.keys(providerFlags), ...Object.keys(providerCreateFlags)]
  return Object.fromEntries(known.filter((k) => flags[k] !== undefined).map((k) => [k, flags[k]]))
}

export function requireProvider(name: string): ProviderName {
  if (name in PROVIDERS) return name as ProviderName
  throw new UsageError(`unknown provider ${JSON.stringify(name)}: expected ${PROVIDER_NAMES.slice(0, -1).join(', ')} or ${PROVIDER_NAMES[PROVIDER_NAMES.length - 1]}`)
}

export function providerEntry(name: ProviderName): ProviderEntry {
  return entries[name]!
}

/** The providers that make their own hosts (docker, aws, lxd), for messages. */
export const HOST_MAKERS = PROVIDER_NAMES.filter((p) => PROVIDERS[p].makesHosts)

/** "docker, aws and lxd": the providers that take --hosts N, for help texts and errors. */
export const HOST_MAKERS_TEXT = `${HOST_MAKERS.slice(0, -1).join(', ')} and ${HOST_MAKERS[HOST_MAKERS.length - 1]}`

export function loadProvider(name: string): Promise<ProviderModule> {
  return PROVIDERS[requireProvider(name)].load()
}

/** Refuses `create` flags the chosen provider does not take, naming the providers that do. */
export function refuseOtherProvidersFlags(name: ProviderName, flags: ProviderFlags): void {
  const givenTo = (p: ProviderName) => entries[p]!.createFlagsGiven(flags)
  const mine = new Set(givenTo(name))
  for (const other of PROVIDER_NAMES) {
    if (other === name) continue
    const given = givenTo(other).filter((f) => !mine.has(f))
    if (given.length === 0) continue
    // A flag two providers share (--ssh-cidr: aws and openstack) names both.
    const owners = PROVIDER_NAMES.filter((p) => p !== name && given.every((f) => givenTo(p).includes(f)))
    throw new UsageError(`${given.join(', ')}: only for the ${owners.join(' and ')} provider${owners.length > 1 ? 's' : ''} (${owners.map((p) => `-p ${p}`).join(', ')})`)
  }
}
