import type {EngineOptions} from '../engines/engine.js'
import {checkEngineOptions, engineHostNeeds, requireEngine} from '../engines/registry.js'
import type {ConvergeReport} from '../output/results.js'
import type {CloudLaunchOptions, ProviderName} from '../providers/provider.js'
import type {ProviderFlags} from '../providers/provider-module.js'
import {providerEntry, refuseOtherProvidersFlags} from '../providers/registry.js'
import {UsageError} from '../remote/errors.js'
import {resolveTarget} from '../remote/target.js'
import {connectProvider, findCluster, type RunOptions} from './context.js'
import {convergeCluster} from './converge.js'
import {checkHostArguments} from './host-args.js'
import {validateClusterName, validateHostCount} from './names.js'

export interface CreateRequest {
  name: string
  provider: ProviderName
  engine: string
  hostCount?: number
  hostSpecs: string[]
  identityFile?: string
  /** The engine's own flags (--spark-dist, --worker-memory, --nomad-dist, --servers, ...). */
  options: EngineOptions
  /** The providers' create flags (aws: --instance-type, --spot, ...); only the chosen provider's may be given. */
  providerOptions?: ProviderFlags
}

export const DEFAULT_HOST_COUNT = 3

/** Checks everything the user typed before anything is created. */
export function validateCreate(req: CreateRequest): {launch?: CloudLaunchOptions} {
  validateClusterName(req.name)
  requireEngine(req.engine)
  refuseOtherProvidersFlags(req.provider, req.providerOptions ?? {})
  checkHostArguments(req.provider, req, 'create')
  if (req.hostCount !== undefined) validateHostCount(req.hostCount)
  for (const spec of req.hostSpecs) resolveTarget(spec, {identityFile: req.identityFile})
  // Whether the provider's hosts can run the engine at all comes before the engine's own options.
  const launch = providerEntry(req.provider).checkCreate(req.providerOptions ?? {}, engineHostNeeds(req.engine))
  checkEngineOptions(req.engine, req.options, {adding: false})
  return {launch}
}

/** Observe what exists, make only what is missing, then converge every host. Rerunning finishes a failed create. */
export async function createCluster(req: CreateRequest, run: RunOptions): Promise<ConvergeReport> {
  const {launch} = validateCreate(req)
  // Docker labels and access files only: an aws cluster is observed by the aws provider itself just below.
  const owner = await findCluster(req.name, {remote: false})
  if (owner.provider && owner.provider !== req.provider) throw new UsageError(`cluster ${req.name} already exists on the ${owner.provider} provider`)
  if (owner.engine && owner.engine !== req.engine) throw new UsageError(`cluster ${req.name} already exists and runs ${owner.engine}, not ${req.engine}`)
  const handle = await connectProvider(req.name, req.provider, req.engine, run)
  try {
    const existing = await handle.provider.observe(req.name)
    if (existing.length > 0) run.log(`Cluster ${req.name} already has ${existing.length} hosts: finishing what is missing`)
    const total = Math.max(req.hostCount ?? (existing.length || (providerEntry(req.provider).makesHosts ? DEFAULT_HOST_COUNT : req.hostSpecs.length)), existing.length)
    if (req.hostCount !== undefined && req.hostCount < existing.length) {
      run.log(`Cluster ${req.name} has ${existing.length} hosts, more than --hosts ${req.hostCount}: keeping them (use 'cms cluster remove' to shrink)`)
    }
    const plan = await handle.engine.plan({cluster: req.name, options: req.options, provider: handle.provider, totalHosts: total, log: run.log})
    const hosts = await handle.provider.provision(req.name, {
      engine: req.engine,
      containerNeeds: handle.engine.containerNeeds,
      existing,
      total,
      specs: req.hostSpecs,
      identityFile: req.identityFile,
      packages: plan.hostPackages,
      launch,
    })
    return await convergeCluster(handle, hosts, {plan, identityFile: req.identityFile, run})
  } finally {
    handle.pool.closeAll()
  }
}
