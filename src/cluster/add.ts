import {readAccess} from '../config/access.js'
import type {EngineOptions} from '../engines/engine.js'
import {checkEngineOptions} from '../engines/registry.js'
import type {ConvergeReport} from '../output/results.js'
import {providerEntry} from '../providers/registry.js'
import {resolveTarget} from '../remote/target.js'
import {locateCluster, connectProvider, type RunOptions} from './context.js'
import {convergeCluster, readHeadManifest} from './converge.js'
import {checkHostArguments} from './host-args.js'
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
  const found = await locateCluster(req.name, run.providerFlags)
  checkEngineOptions(found.engine, req.options, {adding: true})
  checkHostArguments(found.provider, req, 'add')
  const ownsHosts = providerEntry(found.provider).makesHosts
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
