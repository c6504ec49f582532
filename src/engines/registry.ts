import {UsageError} from '../remote/errors.js'
import type {EngineHostNeeds, EngineNeeds} from '../providers/provider.js'
import type {Engine, EngineOptions} from './engine.js'
import {checkHadoopOptions, hadoopAddFlags, hadoopFlags} from './hadoop/options.js'
import {checkKubernetesOptions, kubernetesAddFlags, kubernetesFlags} from './kubernetes/options.js'
import {checkNomadOptions, nomadAddFlags, nomadFlags} from './nomad/options.js'
import {checkSparkOptions, sparkAddFlags, sparkFlags} from './spark/options.js'

/**
 * Where engines are registered: a new engine is a folder under src/engines plus one entry here. Each entry has
 * its create/add flags and their checks (light, loaded with every command) and the engine itself (loaded on use).
 */
const ENGINES = {
  spark: {flags: sparkFlags, addFlags: sparkAddFlags, check: checkSparkOptions, load: async () => new (await import('./spark/engine.js')).SparkEngine()},
  nomad: {flags: nomadFlags, addFlags: nomadAddFlags, check: checkNomadOptions, load: async () => new (await import('./nomad/engine.js')).NomadEngine()},
  kubernetes: {
    flags: kubernetesFlags,
    addFlags: kubernetesAddFlags,
    check: checkKubernetesOptions,
    hostNeeds: {rootLogin: true},
    load: async () => new (await import('./kubernetes/engine.js')).KubernetesEngine(),
  },
  hadoop: {flags: hadoopFlags, addFlags: hadoopAddFlags, check: checkHadoopOptions, load: async () => new (await import('./hadoop/engine.js')).HadoopEngine()},
} satisfies Record<string, {flags: object; addFlags: object; check: (options: EngineOptions, ctx: {adding: boolean}) => void; hostNeeds?: EngineHostNeeds; load: () => Promise<Engine>}>

export type EngineName = keyof typeof ENGINES

export const ENGINE_NAMES = Object.keys(ENGINES) as EngineName[]

/** Every engine's create flags, for `cluster create`. */
export const engineFlags = Object.assign({}, ...Object.values(ENGINES).map((e) => e.flags)) as typeof sparkFlags & typeof nomadFlags & typeof kubernetesFlags & typeof hadoopFlags

/** Every engine's add flags (what new hosts get, when not what the cluster already runs), for `cluster add`. */
export const engineAddFlags = Object.assign({}, ...Object.values(ENGINES).map((e) => e.addFlags)) as typeof sparkAddFlags & typeof nomadAddFlags & typeof kubernetesAddFlags & typeof hadoopAddFlags

/** The engine options among a command's parsed flags. */
export function engineOptionsOf(flags: Record<string, unknown>, known: object = engineFlags): EngineOptions {
  return Object.fromEntries(Object.keys(known).map((k) => [k, flags[k] as EngineOptions[string]]))
}

export function requireEngine(name: string): EngineName {
  if (name in ENGINES) return name as EngineName
  throw new UsageError(`unknown engine ${JSON.stringify(name)}: expected ${ENGINE_NAMES.join(' or ')}`)
}

/** Checks an engine's flags before anything is created or contacted (UsageError, exit 2). */
export function checkEngineOptions(name: string, options: EngineOptions, ctx: {adding: boolean}): void {
  const entry = ENGINES[requireEngine(name)]
  for (const [flag, value] of Object.entries(options)) {
    if (value === undefined || flag in entry.flags) continue
    const owners = ENGINE_NAMES.filter((e) => flag in ENGINES[e].flags)
    throw new UsageError(`--${flag} is for the ${owners.join(' and ')} engine${owners.length > 1 ? 's' : ''}, not ${name}`)
  }
  entry.check(options, ctx)
}

/** The engine's name and what it needs of a host, for the providers' checks before anything is made. */
export function engineHostNeeds(name: string): EngineNeeds {
  const entry = ENGINES[requireEngine(name)]
  return {engine: name, ...('hostNeeds' in entry ? (entry.hostNeeds as EngineHostNeeds) : {})}
}

export function loadEngine(name: string): Promise<Engine> {
  return ENGINES[requireEngine(name)].load()
}
