import {readAccess} from '../config/access.js'
import type {EngineOptions} from '../engines/engine.js'
import {checkEngineOptions} from '../engines/registry.js'
import type {ConvergeReport} from '../output/results.js'
import {UsageError} from '../remote/errors.js'
import {resolveTarget} from '../remote/target.js'
import {locateCluster, connectProvider, type RunOptions} from './context.js'
import {convergeCluster, readHeadManifest} from './converge.js'
import {validateClusterName, validateHostCount} from './names.js'
import {NotFoundError} from './not-found.js'

export interface AddRequest {
  name: string
  hostCount?: number
  hostSpecs: string[]
  identityFile?: string
  /** The engine's own flags; unset ones keep what the cluster already runs (recorded on its head). */
  options: EngineOptions
}

/** Joins new hosts; the cluster's existing hosts are only checked. */
export async function addHosts(req: AddRequest, run: RunOptions): Promise<ConvergeReport> {
  validateClusterName(req.name)
  if (req.hostCount !== undefined) validateHostCount(req.hostCount)
  const found = await locateCluster(req.name, run.aws)
  checkEngineOptions(found.engine, req.options, {adding: true})
  // docker and aws make their own hosts (--hosts N); ssh takes the hosts the user names.
  const ownsHosts = found.provider !== 'ssh'
  if (ownsHosts && req.hostSpecs.length > 0) throw new UsageError(`the ${found.provider} provider makes its own hosts: use --hosts N instead of host arguments`)
  if (!ownsHosts && req.hostCount !== undefined) throw new UsageError('--hosts N is for the docker and aws providers; name ssh hosts as user@host[:port] arguments')
  if (!ownsHosts && req.hostSpecs.length === 0) throw new UsageError('name the hosts to add as user@host[:port] arguments')
  const identityFile = req.identityFile ?? readAccess(req.name)?.identityFile
  for (const spec of req.hostSpecs) resolveTarget(spec, {identityFile})
  const handle = await connectProvider(req.name, found.provider, found.engine, run)
  try {
    const existing = await handle.provider.observe(req.name)
    if (existing.length === 0) throw new NotFoundError(`cluster ${JSON.stringify(req.name)} not found`)
    // New hosts get what the cluster already runs, from its head, unless a flag says otherwise.
    const recorded = (await readHeadManifest(handle, existing))?.engineSettings ?? {}
    const total = existing.length + (req.hostCount ?? (ownsHosts ? 1 : req.hostSpecs.length))
    const plan = await handle.engine.plan({cluster: req.name, options: req.options, recorded, provider: handle.provider, totalHosts: total, log: run.log})
    const hosts = await handle.provider.provision(req.name, {
      engine: handle.engine.name,
      containerNeeds: handle.engine.containerNeeds,
      existing,
      total: existing.length + (req.hostCount ?? (ownsHosts ? 1 : 0)),
      specs: req.hostSpecs,
      identityFile,
      packages: plan.hostPackages,
    })
    return await convergeCluster(handle, hosts, {plan, identityFile, run})
  } finally {
    handle.pool.closeAll()
  }
}
