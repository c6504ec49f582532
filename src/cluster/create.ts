import type {SparkSettings} from '../engines/spark/engine.js'
import {checkSparkDistSource, resolveSparkDist} from '../engines/spark/dist.js'
import type {ConvergeReport} from '../output/results.js'
import type {ProviderName} from '../providers/provider.js'
import {UsageError} from '../remote/errors.js'
import {resolveTarget} from '../remote/target.js'
import {connectProvider, findClusterProvider, type RunOptions} from './context.js'
import {convergeCluster} from './converge.js'
import {validateClusterName, validateHostCount} from './names.js'

export interface CreateRequest {
  name: string
  provider: ProviderName
  engine: string
  hostCount?: number
  hostSpecs: string[]
  identityFile?: string
  sparkDist?: string
  settings: SparkSettings
}

export const DEFAULT_DOCKER_HOSTS = 3

/** Checks everything the user typed before anything is created. */
export function validateCreate(req: CreateRequest): {distSource: string} {
  validateClusterName(req.name)
  if (req.engine !== 'spark') throw new UsageError(`unknown engine ${JSON.stringify(req.engine)}: only spark is available`)
  if (req.provider === 'docker') {
    if (req.hostSpecs.length > 0) throw new UsageError('the docker provider makes its own hosts: use --hosts N instead of host arguments')
    if (req.hostCount !== undefined) validateHostCount(req.hostCount)
  } else {
    if (req.hostCount !== undefined) throw new UsageError('--hosts N is for the docker provider; name ssh hosts as user@host[:port] arguments')
    if (req.hostSpecs.length === 0) throw new UsageError('the ssh provider needs hosts: pass user@host[:port] arguments (the first is the head)')
    for (const spec of req.hostSpecs) resolveTarget(spec, {identityFile: req.identityFile})
  }
  return {distSource: checkSparkDistSource(req.sparkDist)}
}

/** Observe what exists, make only what is missing, then converge every host. Rerunning finishes a failed create. */
export async function createCluster(req: CreateRequest, run: RunOptions): Promise<ConvergeReport> {
  const {distSource} = validateCreate(req)
  const owner = await findClusterProvider(req.name)
  if (owner && owner !== req.provider) throw new UsageError(`cluster ${req.name} already exists on the ${owner} provider`)
  const handle = await connectProvider(req.name, req.provider, run)
  const existing = await handle.provider.observe(req.name)
  if (existing.length > 0) run.log(`Cluster ${req.name} already has ${existing.length} hosts: finishing what is missing`)
  const total = Math.max(req.hostCount ?? (existing.length || DEFAULT_DOCKER_HOSTS), existing.length)
  if (req.hostCount !== undefined && req.hostCount < existing.length) {
    run.log(`Cluster ${req.name} has ${existing.length} hosts, more than --hosts ${req.hostCount}: keeping them (use 'cms cluster remove' to shrink)`)
  }
  const dist = await resolveSparkDist(distSource, run.log)
  try {
    const hosts = await handle.provider.provision(req.name, {
      engine: req.engine,
      existing,
      total,
      specs: req.hostSpecs,
      identityFile: req.identityFile,
    })
    return await convergeCluster(handle, hosts, {dist, settings: req.settings, identityFile: req.identityFile, run})
  } finally {
    handle.pool.closeAll()
  }
}
