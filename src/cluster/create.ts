import type {EngineOptions} from '../engines/engine.js'
import {checkEngineOptions, requireEngine} from '../engines/registry.js'
import type {ConvergeReport} from '../output/results.js'
import {launchFlagsGiven, validateLaunchOptions} from '../providers/aws/launch-options.js'
import type {CloudLaunchOptions, ProviderName} from '../providers/provider.js'
import {UsageError} from '../remote/errors.js'
import {resolveTarget} from '../remote/target.js'
import {connectProvider, findCluster, type RunOptions} from './context.js'
import {convergeCluster} from './converge.js'
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
  /** aws: instance types, image, subnet, disk, spot, SSH CIDR and user, max age. */
  launch?: CloudLaunchOptions
}

export const DEFAULT_DOCKER_HOSTS = 3

/** Checks everything the user typed before anything is created. */
export function validateCreate(req: CreateRequest): {launch?: CloudLaunchOptions} {
  validateClusterName(req.name)
  requireEngine(req.engine)
  const cloudFlags = launchFlagsGiven(req.launch)
  if (req.provider !== 'aws' && cloudFlags.length > 0) throw new UsageError(`${cloudFlags.join(', ')}: only for the aws provider (-p aws)`)
  if (req.provider === 'docker' || req.provider === 'aws') {
    if (req.hostSpecs.length > 0) throw new UsageError(`the ${req.provider} provider makes its own hosts: use --hosts N instead of host arguments`)
    if (req.hostCount !== undefined) validateHostCount(req.hostCount)
  } else {
    if (req.hostCount !== undefined) throw new UsageError('--hosts N is for the docker and aws providers; name ssh hosts as user@host[:port] arguments')
    if (req.hostSpecs.length === 0) throw new UsageError('the ssh provider needs hosts: pass user@host[:port] arguments (the first is the head)')
    for (const spec of req.hostSpecs) resolveTarget(spec, {identityFile: req.identityFile})
  }
  checkEngineOptions(req.engine, req.options, {adding: false})
  return {launch: req.provider === 'aws' ? validateLaunchOptions(req.launch ?? {}) : undefined}
}

/** Observe what exists, make only what is missing, then converge every host. Rerunning finishes a failed create. */
export async function createCluster(req: CreateRequest, run: RunOptions): Promise<ConvergeReport> {
  const {launch} = validateCreate(req)
  // Docker labels and access files only: an aws cluster is observed by the aws provider itself just below.
  const owner = await findCluster(req.name, false)
  if (owner.provider && owner.provider !== req.provider) throw new UsageError(`cluster ${req.name} already exists on the ${owner.provider} provider`)
  if (owner.engine && owner.engine !== req.engine) throw new UsageError(`cluster ${req.name} already exists and runs ${owner.engine}, not ${req.engine}`)
  const handle = await connectProvider(req.name, req.provider, req.engine, run)
  try {
    const existing = await handle.provider.observe(req.name)
    if (existing.length > 0) run.log(`Cluster ${req.name} already has ${existing.length} hosts: finishing what is missing`)
    const total = Math.max(req.hostCount ?? (existing.length || (req.provider === 'ssh' ? req.hostSpecs.length : DEFAULT_DOCKER_HOSTS)), existing.length)
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
