import type {SparkSettings} from '../engines/spark/engine.js'
import {checkSparkDistSource, resolveSparkDist} from '../engines/spark/dist.js'
import {sharedWorkerMemory} from '../engines/spark/shared-machine.js'
import type {ConvergeReport} from '../output/results.js'
import {SPARK_HOST_PACKAGES} from '../engines/spark/layout.js'
import {launchFlagsGiven, validateLaunchOptions} from '../providers/aws/launch-options.js'
import type {CloudLaunchOptions, Provider, ProviderName} from '../providers/provider.js'
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
  /** aws: instance types, image, subnet, disk, spot, SSH CIDR and user, max age. */
  launch?: CloudLaunchOptions
}

export const DEFAULT_DOCKER_HOSTS = 3
/** SPARK_WORKER_MEMORY needs a unit: Spark reads a bare number as bytes. */
const WORKER_MEMORY_RE = /^[1-9]\d*[mgt]$/i

/** Checks everything the user typed before anything is created. */
export function validateCreate(req: CreateRequest): {distSource: string; launch?: CloudLaunchOptions} {
  validateClusterName(req.name)
  if (req.engine !== 'spark') throw new UsageError(`unknown engine ${JSON.stringify(req.engine)}: only spark is available`)
  const {workerMemory} = req.settings
  if (workerMemory !== undefined && !WORKER_MEMORY_RE.test(workerMemory)) {
    throw new UsageError(`invalid --worker-memory ${JSON.stringify(workerMemory)}: use a size with a unit, like 4g or 1500m`)
  }
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
  const launch = req.provider === 'aws' ? validateLaunchOptions(req.launch ?? {}) : undefined
  return {distSource: checkSparkDistSource(req.sparkDist), launch}
}

/** Observe what exists, make only what is missing, then converge every host. Rerunning finishes a failed create. */
export async function createCluster(req: CreateRequest, run: RunOptions): Promise<ConvergeReport> {
  const {distSource, launch} = validateCreate(req)
  // Docker labels and access files only: an aws cluster is observed by the aws provider itself just below.
  const owner = await findClusterProvider(req.name, false)
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
    const settings = await defaultWorkerMemory(req.settings, handle.provider, total, run.log)
    const hosts = await handle.provider.provision(req.name, {
      engine: req.engine,
      existing,
      total,
      specs: req.hostSpecs,
      identityFile: req.identityFile,
      packages: SPARK_HOST_PACKAGES,
      launch,
    })
    return await convergeCluster(handle, hosts, {dist, settings, identityFile: req.identityFile, run})
  } finally {
    handle.pool.closeAll()
  }
}

/** Hosts that share one machine split its memory, unless the user said how much each worker offers. */
async function defaultWorkerMemory(settings: SparkSettings, provider: Provider, hosts: number, log: (line: string) => void): Promise<SparkSettings> {
  if (settings.workerMemory || !provider.sharedMachine) return settings
  const machine = await provider.sharedMachine()
  const workerMemory = sharedWorkerMemory(machine, hosts)
  log(`Each worker offers ${workerMemory}: ${hosts} hosts share this machine's ${(machine.memoryMb / 1024).toFixed(1)} GiB (--worker-memory to change)`)
  return {...settings, workerMemory}
}
